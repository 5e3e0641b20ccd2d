// How per-token GRPO losses are aggregated into one scalar, as TRL's GRPOTrainer defines each loss_type.
package dev.rlsr.rl;

/**
 * Each type is a per-row weight applied to the sum of the row's masked per-token losses, so that accumulating
 * micro-batches gives exactly TRL's value for the whole batch.
 */
public enum LossType {
  /** GRPO (Shao et al. 2024): mean over each sequence's tokens, then mean over sequences. Favours short answers. */
  GRPO,
  /** BNPO: sum over the micro-batch's tokens / its token count, averaged over micro-batches. */
  BNPO,
  /** Dr. GRPO (Liu et al. 2025): sum over tokens / (sequences * max completion length); no length bias. */
  DR_GRPO,
  /** DAPO (Yu et al. 2025): sum over tokens / tokens in the whole optimizer batch; token-level, no length bias. */
  DAPO;

  /** The type named as on the command line ({@code dapo}, {@code dr_grpo} or {@code dr-grpo}, any case). */
  public static LossType parse(String name) {
    return valueOf(name.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
  }

  /**
   * Weight of each row's summed token loss.
   *
   * @param rowTokens        completion tokens (mask sum) of each row of the micro-batch
   * @param batchRows        rows in the whole optimizer batch
   * @param batchTokens      completion tokens in the whole optimizer batch
   * @param microBatches     micro-batches in the optimizer batch
   * @param maxCompletionLen the configured maximum completion length
   */
  public double[] rowWeights(int[] rowTokens, int batchRows, long batchTokens, int microBatches, int maxCompletionLen) {
    double[] w = new double[rowTokens.length];
    long microTokens = 0;
    for (int t : rowTokens) {
      microTokens += t;
    }
    for (int i = 0; i < w.length; i++) {
      w[i] = switch (this) {
        // TRL: (sum_t / clamp(len, 1)).mean() over the micro-batch, divided by accumulation steps
        case GRPO -> 1.0 / (Math.max(1, rowTokens[i]) * (double) rowTokens.length * microBatches);
        case BNPO -> 1.0 / (Math.max(1, microTokens) * (double) microBatches);
        case DR_GRPO -> 1.0 / ((double) batchRows * maxCompletionLen);
        case DAPO -> 1.0 / Math.max(1, batchTokens);
      };
    }
    return w;
  }
}
