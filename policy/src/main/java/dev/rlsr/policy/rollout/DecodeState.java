// Per-row state of batched, left-padded decoding shared by every RolloutEngine: OrtSampler (module export, KV cache)
// and RecomputeGenerator (whole sequence each step): the prompt layout, the tokens chosen so far with their
// log-probs, which rows stopped, and each row's next input (token, position, mask). One SplittableRandom per call,
// drawn in row order.
package dev.rlsr.policy.rollout;

import dev.rlsr.policy.util.RlsrException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The decoding rules of {@link RolloutEngine#sample} in one place: an engine feeds it the logits of each row's last
 * position and reads back the next inputs, so engines that share it sample the same tokens from the same logits.
 */
public final class DecodeState {
  /** Copies the last-position logits of row b into {@code into} (length V). */
  public interface RowLogits {
    void copy(int b, float[] into);
  }

  public final int batch;
  public final int promptLen;
  private final List<int[]> prompts;
  private final SamplingOptions o;
  private final Set<Integer> stop;
  private final SplittableRandom rng;
  private final float[] logits;
  private final int[][] tokens;
  private final float[][] samplingLp;
  private final float[][] policyLp;
  private final int[] produced;
  private final boolean[] eos;
  private final int[] realSeen; // real tokens of each row so far = the next position id
  public final int[] nextToken;
  public final int[] nextPosition;
  public final int[] nextMask;

  public DecodeState(List<int[]> prompts, SamplingOptions o, int vocab) {
    this.prompts = prompts;
    this.batch = prompts.size();
    int longest = 0;
    for (int b = 0; b < batch; b++) {
      if (prompts.get(b).length == 0) {
        throw new RlsrException("prompt " + b + " of the generation batch is empty (it needs at least one token, e.g. BOS)");
      }
      longest = Math.max(longest, prompts.get(b).length);
    }
    this.promptLen = longest;
    this.o = o;
    this.stop = new HashSet<>(o.stopTokenIds());
    this.rng = new SplittableRandom(o.seed());
    this.logits = new float[vocab];
    int n = o.maxNewTokens();
    tokens = new int[batch][n];
    samplingLp = new float[batch][n];
    policyLp = new float[batch][n];
    produced = new int[batch];
    eos = new boolean[batch];
    realSeen = new int[batch];
    for (int b = 0; b < batch; b++) {
      realSeen[b] = prompts.get(b).length;
    }
    nextToken = new int[batch];
    nextPosition = new int[batch];
    nextMask = new int[batch];
  }

  /** Left-padded prompt column t of row b: token id (pad before the prompt). */
  public int promptId(int b, int t) {
    int off = promptLen - prompts.get(b).length;
    return t >= off ? prompts.get(b)[t - off] : o.padTokenId();
  }

  public int promptMask(int b, int t) {
    return t >= promptLen - prompts.get(b).length ? 1 : 0;
  }

  /** Position ids count real tokens only: cumsum(mask) - 1, 0 on padding. */
  public int promptPosition(int b, int t) {
    int off = promptLen - prompts.get(b).length;
    return t >= off ? t - off : 0;
  }

  /**
   * Chooses the next token of every running row from its logits, records it, and sets each row's next input: the
   * new token for a running row, the pad id with mask 0 for a finished one.
   *
   * @return whether any row is still running
   */
  public boolean advance(RowLogits rows) {
    boolean anyActive = false;
    for (int b = 0; b < batch; b++) {
      boolean active = !eos[b];
      if (active) {
        rows.copy(b, logits);
        int k = produced[b]++;
        double[] lp = new double[2];
        int token = TokenChooser.choose(logits, o, rng, lp);
        tokens[b][k] = token;
        samplingLp[b][k] = (float) lp[0];
        policyLp[b][k] = (float) lp[1];
        eos[b] = stop.contains(token);
        active = !eos[b];
      }
      nextToken[b] = active ? tokens[b][produced[b] - 1] : o.padTokenId();
      nextPosition[b] = active ? realSeen[b] : Math.max(realSeen[b] - 1, 0);
      nextMask[b] = active ? 1 : 0;
      if (active) {
        realSeen[b]++;
      }
      anyActive |= active;
    }
    return anyActive;
  }

  public List<Rollout> rollouts() {
    List<Rollout> out = new ArrayList<>(batch);
    for (int b = 0; b < batch; b++) {
      int n = produced[b];
      out.add(new Rollout(Arrays.copyOf(tokens[b], n), Arrays.copyOf(samplingLp[b], n), Arrays.copyOf(policyLp[b], n),
          eos[b]));
    }
    return out;
  }
}
