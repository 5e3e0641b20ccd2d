// The function a Spark task runs: its partition's rollout units on this executor's cached worker.
package dev.rlsr.spark;

import dev.rlsr.rl.rollout.RolloutUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

/** Serialized into each task: the iteration, the run's broadcast handle and the weights' references (never their values). */
final class UnitTask implements FlatMapFunction<Iterator<RolloutUnit>, ExecutorRollouts.Done> {
  private final int iteration;
  private final Broadcast<RunSpec> spec;
  private final WeightsRef weights;
  private final WeightsRef base;

  UnitTask(int iteration, Broadcast<RunSpec> spec, WeightsRef weights, WeightsRef base) {
    this.iteration = iteration;
    this.spec = spec;
    this.weights = weights;
    this.base = base;
  }

  @Override
  public Iterator<ExecutorRollouts.Done> call(Iterator<RolloutUnit> it) {
    List<RolloutUnit> units = new ArrayList<>();
    it.forEachRemaining(units::add);
    if (units.isEmpty()) {
      return List.<ExecutorRollouts.Done>of().iterator();
    }
    org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
    if (env == null || !"driver".equals(env.executorId())) { // an executor's own log, not the driver's console
      System.err.println("rlsr spark task: iteration " + (iteration + 1) + ", units " + units.get(0).index() + ".."
          + units.get(units.size() - 1).index() + " on " + ExecutorRollouts.where());
    }
    return ExecutorRollouts.forRun(spec.value())
        .run(iteration, units, weights, base).iterator();
  }
}
