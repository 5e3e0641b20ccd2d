// The function a Spark task runs: its partition's rollout units on this executor's cached worker.
package dev.rlsr.spark;

import dev.rlsr.rl.rollout.RolloutUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

/** Serialized into each task: the iteration, the broadcast handles (not their values) and the weights' version. */
final class UnitTask implements FlatMapFunction<Iterator<RolloutUnit>, ExecutorRollouts.Done> {
  private final int iteration;
  private final Broadcast<RunSpec> spec;
  private final Broadcast<WeightsMessage> weights;
  private final long version;
  private final Broadcast<WeightsMessage> base;

  UnitTask(int iteration, Broadcast<RunSpec> spec, Broadcast<WeightsMessage> weights, long version,
      Broadcast<WeightsMessage> base) {
    this.iteration = iteration;
    this.spec = spec;
    this.weights = weights;
    this.version = version;
    this.base = base;
  }

  @Override
  public Iterator<ExecutorRollouts.Done> call(Iterator<RolloutUnit> it) {
    List<RolloutUnit> units = new ArrayList<>();
    it.forEachRemaining(units::add);
    if (units.isEmpty()) {
      return List.<ExecutorRollouts.Done>of().iterator();
    }
    System.err.println("rlsr spark task: iteration " + (iteration + 1) + ", units " + units.get(0).index() + ".."
        + units.get(units.size() - 1).index() + " on " + ExecutorRollouts.where());
    return ExecutorRollouts.forRun(spec.value())
        .run(iteration, units, version, weights::value, base == null ? null : base::value).iterator();
  }
}
