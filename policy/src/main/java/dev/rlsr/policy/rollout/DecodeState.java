// Per-row state of batched, left-padded decoding shared by every RolloutEngine: OrtSampler (module export, KV cache)
// and RecomputeGenerator (whole sequence each step): the prompt layout, the tokens chosen so far with their
// log-probs, which rows stopped, and each row's next input (token, position, mask). Draws come from one
// SplittableRandom per call in row order, or (per-row options, rlsr serve) one stream per row.
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

  /**
   * Sees each token as it is chosen (streaming); returning false ends that row there (a stop string matched, the
   * client went away). Called on the decoding thread, row by row in each step.
   */
  public interface TokenListener {
    boolean accept(int row, int token);
  }

  /** A listener that never stops a row. */
  public static final TokenListener NONE = (row, token) -> true;

  public final int batch;
  public final int promptLen;
  /** The most new tokens of any row: the decode loop's bound. */
  public final int maxNewTokens;
  private final List<int[]> prompts;
  private final SamplingOptions[] rowOptions;
  private final Set<Integer>[] stop;
  private final SplittableRandom[] rng;
  private final TokenListener listener;
  private final int padId;
  private final float[] logits;
  private final int[][] tokens;
  private final float[][] samplingLp;
  private final float[][] policyLp;
  private final int[] produced;
  private final boolean[] eos;
  private final boolean[] done;   // no more tokens for this row: EOS, its max new tokens, or its listener said stop
  private final int[] realSeen; // real tokens of each row so far = the next position id
  public final int[] nextToken;
  public final int[] nextPosition;
  public final int[] nextMask;

  /** The rules of {@link RolloutEngine#sample}: one options for every row, one random stream drawn in row order. */
  public DecodeState(List<int[]> prompts, SamplingOptions o, int vocab) {
    this(prompts, java.util.Collections.nCopies(prompts.size(), o), true, NONE, vocab);
  }

  /**
   * Rows with their own options (serving: each request's max_tokens, temperature, top_p, seed and stop ids): row b
   * draws from its own {@code SplittableRandom(options.get(b).seed())}, so its tokens do not depend on its batch
   * neighbours, and stops at its own {@code maxNewTokens}. All rows share the first row's pad id (any id works:
   * padded positions are masked).
   */
  public DecodeState(List<int[]> prompts, List<SamplingOptions> options, TokenListener listener, int vocab) {
    this(prompts, options, false, listener, vocab);
  }

  @SuppressWarnings("unchecked")
  private DecodeState(List<int[]> prompts, List<SamplingOptions> options, boolean sharedRandom,
      TokenListener listener, int vocab) {
    this.prompts = prompts;
    this.batch = prompts.size();
    if (options.size() != batch) {
      throw new RlsrException(options.size() + " sampling options for " + batch + " prompts");
    }
    int longest = 0;
    for (int b = 0; b < batch; b++) {
      if (prompts.get(b).length == 0) {
        throw new RlsrException("prompt " + b + " of the generation batch is empty (it needs at least one token, e.g. BOS)");
      }
      longest = Math.max(longest, prompts.get(b).length);
    }
    this.promptLen = longest;
    this.rowOptions = options.toArray(new SamplingOptions[0]);
    this.listener = listener;
    this.padId = batch == 0 ? 0 : rowOptions[0].padTokenId();
    this.stop = new Set[batch];
    this.rng = new SplittableRandom[batch];
    SplittableRandom shared = sharedRandom && batch > 0 ? new SplittableRandom(rowOptions[0].seed()) : null;
    int most = 0;
    tokens = new int[batch][];
    samplingLp = new float[batch][];
    policyLp = new float[batch][];
    for (int b = 0; b < batch; b++) {
      SamplingOptions o = rowOptions[b];
      stop[b] = new HashSet<>(o.stopTokenIds());
      rng[b] = shared != null ? shared : new SplittableRandom(o.seed());
      tokens[b] = new int[o.maxNewTokens()];
      samplingLp[b] = new float[o.maxNewTokens()];
      policyLp[b] = new float[o.maxNewTokens()];
      most = Math.max(most, o.maxNewTokens());
    }
    this.maxNewTokens = most;
    this.logits = new float[vocab];
    produced = new int[batch];
    eos = new boolean[batch];
    done = new boolean[batch];
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
    return t >= off ? prompts.get(b)[t - off] : padId;
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
      boolean active = !done[b];
      if (active) {
        rows.copy(b, logits);
        int k = produced[b]++;
        double[] lp = new double[2];
        int token = TokenChooser.choose(logits, rowOptions[b], rng[b], lp);
        tokens[b][k] = token;
        samplingLp[b][k] = (float) lp[0];
        policyLp[b][k] = (float) lp[1];
        eos[b] = stop[b].contains(token);
        boolean more = listener.accept(b, token);
        done[b] = eos[b] || !more || produced[b] == tokens[b].length;
        active = !done[b];
      }
      nextToken[b] = active ? tokens[b][produced[b] - 1] : padId;
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
