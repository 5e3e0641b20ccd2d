// Batched generation without a KV cache: each step runs the whole (left-padded) sequence through a forward
// function and samples from its last position, with the padding, positions, stop rule and token choice of every
// RolloutEngine (DecodeState).
package dev.rlsr.policy.rollout;

import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.TensorSource;
import java.util.Arrays;
import java.util.List;

/**
 * The same rollouts as the KV-cache sampler ({@code OrtSampler}, module export: same left padding, position ids
 * cumsum(mask) - 1, per-row stop, one {@code SplittableRandom(seed)} drawn row by row each step through
 * {@link TokenChooser}), for backends that recompute the sequence every step: the TensorFlow graph
 * ({@link TfGenerator}) or an ONNX session fed an empty past. Cost per step grows with the sequence, so this is for
 * checks and benchmarks, not for training rollouts.
 *
 * <p>As a {@link RolloutEngine} over a bare forward function it owns nothing ({@link #close} does nothing) and cannot
 * take weights ({@link #sync} throws): the owner of the function swaps them ({@link TfGenerator} over its graph,
 * {@code OrtRolloutEngine} in recompute mode over a new session).
 */
public class RecomputeGenerator implements RolloutEngine {
  /** A full forward pass: the logits of the last position of every row, [B * vocab] row-major. */
  @FunctionalInterface
  public interface Forward {
    float[] lastLogits(int[][] ids, int[][] attention, int[][] positions);
  }

  private final ModelConfig config;
  private final Forward forward;

  public RecomputeGenerator(ModelConfig config, Forward forward) {
    this.config = config;
    this.forward = forward;
  }

  /** One continuation per non-empty prompt, in prompt order; see {@link RolloutEngine#sample} for repeatability. */
  @Override
  public List<Rollout> sample(List<int[]> prompts, SamplingOptions o) {
    if (prompts.isEmpty()) {
      return List.of();
    }
    int vocab = config.vocabSize();
    DecodeState st = new DecodeState(prompts, o, vocab);
    int batch = st.batch;
    int maxTotal = st.promptLen + o.maxNewTokens();

    // Whole sequences [B, maxTotal], left-padded prompt then generated tokens; the first `seen` columns are used.
    int[][] ids = new int[batch][maxTotal];
    int[][] mask = new int[batch][maxTotal];
    int[][] pos = new int[batch][maxTotal];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < st.promptLen; t++) {
        ids[b][t] = st.promptId(b, t);
        mask[b][t] = st.promptMask(b, t);
        pos[b][t] = st.promptPosition(b, t);
      }
    }
    int seen = st.promptLen;
    for (int step = 0; step < o.maxNewTokens(); step++) {
      float[] last = forward.lastLogits(prefix(ids, seen), prefix(mask, seen), prefix(pos, seen)); // [B * V]
      boolean anyActive = st.advance((b, into) -> System.arraycopy(last, b * vocab, into, 0, vocab));
      if (!anyActive || seen >= maxTotal) {
        break;
      }
      for (int b = 0; b < batch; b++) {
        ids[b][seen] = st.nextToken[b];
        pos[b][seen] = st.nextPosition[b];
        mask[b][seen] = st.nextMask[b];
      }
      seen++;
    }
    return st.rollouts();
  }

  /** Unsupported: the forward function is fixed; swap the weights where it gets them from. */
  @Override
  public void sync(TensorSource weights) {
    throw new UnsupportedOperationException("this generator runs a fixed forward function and cannot take new "
        + "weights; open the engine with RolloutEngines.open (ONNX_RECOMPUTE or TF backend) to sync weights");
  }

  /** Nothing to release: the forward function is borrowed. */
  @Override
  public void close() {}

  private static int[][] prefix(int[][] rows, int len) {
    int[][] out = new int[rows.length][];
    for (int b = 0; b < rows.length; b++) {
      out[b] = Arrays.copyOf(rows[b], len);
    }
    return out;
  }
}
