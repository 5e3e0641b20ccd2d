// The rollout -> reward stage of an RLSR iteration, the seam of `train --rollout-engine`: where each iteration's
// units are sampled and scored (this process, or Spark executors) and how the updated weights reach them.
package dev.rlsr.rl.rollout;

import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.rl.GrpoConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Implementations: {@link LocalRolloutStage} ({@code --rollout-engine local}: the ONNX Runtime engine and the reward
 * in the trainer's process) and the Spark stage of module {@code rl/spark} ({@code --rollout-engine spark}, found
 * through {@link Provider} so that the trainer never loads Spark). Every implementation computes each unit with
 * {@link UnitRunner}, so they agree bit for bit on the same weights. Adding an engine: implement this interface and
 * a {@link Provider} registered in {@code META-INF/services/dev.rlsr.rl.rollout.RolloutStage$Provider}.
 */
public interface RolloutStage extends AutoCloseable {
  /** One iteration's scored units in unit order, and the stage's own metrics for the iteration's row. */
  record Result(List<ScoredUnit> units, Map<String, Double> metrics) {}

  /**
   * Everything a stage is opened with.
   *
   * @param cfg          the run's options (the embedder, threads, device, rollout dtype, seed, LoRA, Spark settings)
   * @param model        the policy's architecture
   * @param tokenizerDir the directory {@code Tokenizer.load} reads the policy's tokenizer from
   * @param weights      the policy's weights (with LoRA: the frozen base), read one tensor at a time during open
   * @param sampling     the run's sampling options; each row takes them with its own seed ({@link RowSeeds})
   * @param metadata     metadata of the rollout graph (the run config)
   * @param log          where the stage reports what it does
   */
  record Context(GrpoConfig cfg, ModelConfig model, Path tokenizerDir, TensorSource weights, SamplingOptions sampling,
      Map<String, String> metadata, PrintWriter log) {}

  /** A rollout engine other than local, found by name through {@link java.util.ServiceLoader}. */
  interface Provider {
    /** The {@code --rollout-engine} value. */
    String name();

    RolloutStage open(Context context);
  }

  /** Samples and scores {@code units} of iteration {@code iteration} (0-based) on the current weights. */
  Result run(int iteration, List<RolloutUnit> units);

  /**
   * Takes the updated weights after an update: the policy's variables, or with LoRA the adapter alone. Read during
   * the call; no reference is kept.
   */
  void sync(TensorSource weights);

  /** Frees what the stage holds in this process until the next {@link #sync}; see {@code RolloutEngine#release}. */
  default void release() {}

  @Override
  void close();
}
