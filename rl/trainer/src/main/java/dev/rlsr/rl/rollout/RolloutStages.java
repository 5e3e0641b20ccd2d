// Finds a rollout engine other than local by its --rollout-engine name, without loading it until asked.
package dev.rlsr.rl.rollout;

import dev.rlsr.policy.util.RlsrException;
import java.util.ServiceLoader;

public final class RolloutStages {
  private RolloutStages() {}

  /** Opens the stage of the {@link RolloutStage.Provider} named {@code name}; refused, saying how to get it, if absent. */
  public static RolloutStage open(String name, RolloutStage.Context context) {
    return provider(name).open(context);
  }

  /** Refuses up front, before anything is loaded or trained, a {@code --rollout-engine} whose module is absent. */
  public static void require(String name) {
    provider(name);
  }

  private static RolloutStage.Provider provider(String name) {
    for (RolloutStage.Provider p : ServiceLoader.load(RolloutStage.Provider.class)) {
      if (p.name().equals(name)) {
        return p;
      }
    }
    throw new RlsrException("--rollout-engine " + name + ": the " + name + " engine is not on the class path. It is "
        + "module rl/spark: run ./rlsr (which adds it when --rollout-engine spark is given), put "
        + "rl/spark/target/classpath.txt and its jar on the class path, or spark-submit the jar that "
        + "`mvn -Pspark-dist package` builds (rl/spark/target/rlsr-spark-0.1.0-SNAPSHOT-all.jar)");
  }
}
