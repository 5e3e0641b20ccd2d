// Batched generation without a KV cache: each step runs the whole (left-padded) sequence through a forward
// function and samples from its last position, with OrtSampler's padding, positions, stop rule and token choice.
package dev.rlsr.policy.rollout;

import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.RlsrException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The same rollouts as {@link OrtSampler} (same left padding, position ids cumsum(mask) - 1, per-row stop, one
 * {@code SplittableRandom(seed)} drawn row by row each step through {@link TokenChooser}), for backends that
 * recompute the sequence every step: the TensorFlow graph ({@link TfGenerator}) or an ONNX session fed an empty
 * past. Cost per step grows with the sequence, so this is for checks and benchmarks, not for training rollouts.
 */
public class RecomputeGenerator {
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

  /** One continuation per non-empty prompt, in prompt order; see {@link OrtSampler#sample} for repeatability. */
  public List<Rollout> sample(List<int[]> prompts, SamplingOptions o) {
    int batch = prompts.size();
    if (batch == 0) {
      return List.of();
    }
    int promptLen = 0;
    for (int b = 0; b < batch; b++) {
      int[] p = prompts.get(b);
      if (p.length == 0) {
        throw new RlsrException("prompt " + b + " of the generation batch is empty (it needs at least one token, e.g. BOS)");
      }
      promptLen = Math.max(promptLen, p.length);
    }
    int vocab = config.vocabSize();
    int maxTotal = promptLen + o.maxNewTokens();
    Set<Integer> stop = new HashSet<>(o.stopTokenIds());
    SplittableRandom rng = new SplittableRandom(o.seed());

    // Whole sequences [B, maxTotal], left-padded prompt then generated tokens; the first `seen` columns are used.
    int[][] ids = new int[batch][maxTotal];
    int[][] mask = new int[batch][maxTotal];
    int[][] pos = new int[batch][maxTotal];
    int[] realSeen = new int[batch];
    for (int b = 0; b < batch; b++) {
      int[] p = prompts.get(b);
      int off = promptLen - p.length;
      for (int t = 0; t < promptLen; t++) {
        boolean real = t >= off;
        ids[b][t] = real ? p[t - off] : o.padTokenId();
        mask[b][t] = real ? 1 : 0;
        pos[b][t] = real ? t - off : 0;
      }
      realSeen[b] = p.length;
    }

    int[][] tokens = new int[batch][o.maxNewTokens()];
    float[][] sampLp = new float[batch][o.maxNewTokens()];
    float[][] polLp = new float[batch][o.maxNewTokens()];
    int[] produced = new int[batch];
    boolean[] eos = new boolean[batch];
    float[] logits = new float[vocab];
    int seen = promptLen;
    for (int step = 0; step < o.maxNewTokens(); step++) {
      float[] last = forward.lastLogits(prefix(ids, seen), prefix(mask, seen), prefix(pos, seen));
      boolean anyActive = false;
      for (int b = 0; b < batch; b++) {
        boolean active = !eos[b];
        if (active) {
          System.arraycopy(last, b * vocab, logits, 0, vocab);
          int k = produced[b]++;
          double[] lp = new double[2];
          int token = TokenChooser.choose(logits, o, rng, lp);
          tokens[b][k] = token;
          sampLp[b][k] = (float) lp[0];
          polLp[b][k] = (float) lp[1];
          eos[b] = stop.contains(token);
          active = !eos[b];
        }
        if (seen < maxTotal) {
          ids[b][seen] = active ? tokens[b][produced[b] - 1] : o.padTokenId();
          pos[b][seen] = active ? realSeen[b] : Math.max(realSeen[b] - 1, 0);
          mask[b][seen] = active ? 1 : 0;
        }
        if (active) {
          realSeen[b]++;
        }
        anyActive |= active;
      }
      if (!anyActive) {
        break;
      }
      seen++;
    }

    List<Rollout> out = new ArrayList<>(batch);
    for (int b = 0; b < batch; b++) {
      int n = produced[b];
      out.add(new Rollout(Arrays.copyOf(tokens[b], n), Arrays.copyOf(sampLp[b], n), Arrays.copyOf(polLp[b], n), eos[b]));
    }
    return out;
  }

  private static int[][] prefix(int[][] rows, int len) {
    int[][] out = new int[rows.length][];
    for (int b = 0; b < rows.length; b++) {
      out[b] = Arrays.copyOf(rows[b], len);
    }
    return out;
  }
}
