// The rollout seam: what the trainer, eval, generate, bench generate and the demo need from a generator of the
// policy — sample continuations with their log-probs, take new weights, release what it holds.
package dev.rlsr.policy.rollout;

import dev.rlsr.policy.model.TensorSource;
import java.util.List;

/**
 * Generates continuations of prompts with the policy on some backend.
 *
 * <p>Implementations: ONNX Runtime with a KV cache ({@code OrtRolloutEngine}, module export, package
 * {@code dev.rlsr.export.runtime}: the rollouts of {@code rlsr train}, {@code eval} and {@code generate}), ONNX
 * Runtime recomputing the whole sequence each step (the same engine in its recompute mode, over
 * {@link RecomputeGenerator}), and the TensorFlow graph ({@link TfGenerator}). Callers get one from
 * {@code dev.rlsr.export.runtime.RolloutEngines.open(Backend, ModelConfig, TensorSource, EngineOptions)}.
 *
 * <p>The contract every implementation keeps, so that backends agree token for token on the same weights (up to
 * float ties) and a run repeats exactly:
 * <ul>
 *   <li>One continuation per prompt, returned in prompt order. Every prompt is non-empty (an empty one is refused
 *       with an {@code RlsrException}); an empty list gives an empty list.</li>
 *   <li>Prompts of different lengths are left-padded with {@link SamplingOptions#padTokenId} (attention mask 0);
 *       position ids count real tokens only: cumsum(mask) - 1, clamped at 0.</li>
 *   <li>A row that emits one of {@link SamplingOptions#stopTokenIds} is finished (the stop token is part of its
 *       output, {@link Rollout#finishedByEos}); it keeps feeding the pad id with mask 0 until every row is done or
 *       {@link SamplingOptions#maxNewTokens} is reached.</li>
 *   <li>Tokens are chosen by {@link TokenChooser}; the random draws are taken row by row at each step from one
 *       {@code SplittableRandom(o.seed())} per call, so a call repeats exactly for the same prompt list and options
 *       (a prompt's sample depends on its batch neighbours and its place in the batch). {@link DecodeState} holds
 *       these rules; an implementation that feeds it its logits keeps them.</li>
 *   <li>{@link Rollout} carries, per token, the sampling log-probability and log_softmax(logits / temperature).</li>
 * </ul>
 * An engine is not thread-safe: one caller at a time.
 *
 * <p>Rollouts on other machines (Spark executors) are one level up, in the trainer's {@code RolloutStage}: each
 * executor runs an engine of this interface. Adding an implementation (LoRA adapters, int8 rollouts, ...): implement these
 * three methods (and {@link #release} when the engine holds its weights in this process), decoding through {@link DecodeState} (or proving token parity against {@code OrtSampler} in a test
 * like {@code TfGeneratorParityTest}); give {@code RolloutEngines.Backend} a value, or {@code EngineOptions} an
 * option, and build the engine in {@code RolloutEngines.open}. Keep this interface as it is: what is specific to one
 * backend (sessions, adapters, executors, quantisation) stays inside the implementation and its options.
 */
public interface RolloutEngine extends AutoCloseable {
  /**
   * One continuation per prompt, in prompt order, by the rules above.
   *
   * @param prompts token ids of each prompt (each non-empty); not modified
   * @param o       sampling options; {@code o.seed()} seeds this call's draws
   */
  List<Rollout> sample(List<int[]> prompts, SamplingOptions o);

  /**
   * One continuation per prompt, each row with its own options and its own random stream ({@code perRow.get(r).seed()}),
   * so a row's tokens do not depend on its batch neighbours or its place in the batch: how {@code rlsr train} samples
   * (a row's seed comes from its run seed, iteration, prompt and completion) and how {@code rlsr serve} batches
   * requests. Engines that cannot (the default) throw {@link UnsupportedOperationException}.
   */
  default List<Rollout> sample(List<int[]> prompts, List<SamplingOptions> perRow) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " samples with one options per call only");
  }

  /**
   * Takes new weights (the layout of the engine's model config): every later {@link #sample} uses them. The engine
   * reads each tensor it needs from {@code weights} during the call, one at a time (a live source such as
   * {@code PolicyGraph.variables()} works, so no whole-model copy is made on the way), and keeps no reference to it:
   * the caller may change or drop it afterwards. An engine that cannot take weights (one over a fixed forward
   * function or a model file) throws {@link UnsupportedOperationException} and stays usable.
   */
  void sync(TensorSource weights);

  /**
   * Frees this engine's copy of the weights until the next {@link #sync}: {@link #sample} throws until then. rlsr
   * train calls it after each iteration's rollouts, so the log-prob passes and the update run without the rollout
   * session in memory (at 0.5B parameters 4.6 GiB less at the update's peak); its sync then makes the session anew,
   * as every sync does. The default keeps everything: for an engine whose weights are not in this process (remote
   * executors) or that cannot sync.
   */
  default void release() {}

  /** Releases what the engine owns (sessions, graphs, native buffers); borrowed resources stay open. */
  @Override
  void close();
}
