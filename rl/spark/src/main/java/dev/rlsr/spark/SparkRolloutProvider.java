// Registers the Spark stage under --rollout-engine spark (META-INF/services), so the trainer finds it by name.
package dev.rlsr.spark;

import dev.rlsr.rl.rollout.RolloutStage;

public final class SparkRolloutProvider implements RolloutStage.Provider {
  @Override
  public String name() {
    return "spark";
  }

  @Override
  public RolloutStage open(RolloutStage.Context context) {
    return new SparkRolloutStage(context);
  }
}
