// Group-relative advantages of GRPO from the rewards of P groups of G completions.
package dev.rlsr.rl;

public final class Advantages {
  /** Added to the std, as TRL does, so a constant group gives zero advantages instead of NaN. */
  public static final double EPS = 1e-4;

  private Advantages() {}

  /**
   * @param rewards P*G rewards, group after group (rows g*G .. g*G+G-1 share a prompt)
   * @param groupSize G
   * @return advantages, same order; std is the unbiased (n-1) one, as torch.std in TRL
   */
  public static float[] compute(float[] rewards, int groupSize, ScaleRewards scale) {
    if (groupSize < 2 || rewards.length % groupSize != 0) {
      throw new IllegalArgumentException("rewards (" + rewards.length + ") must be whole groups of G >= 2 (" + groupSize + ")");
    }
    float[] adv = new float[rewards.length];
    double batchStd = std(rewards, 0, rewards.length);
    for (int g = 0; g < rewards.length; g += groupSize) {
      double mean = 0;
      for (int i = g; i < g + groupSize; i++) {
        mean += rewards[i];
      }
      mean /= groupSize;
      double denom = switch (scale) {
        case GROUP -> std(rewards, g, g + groupSize) + EPS;
        case BATCH -> batchStd + EPS;
        case NONE -> 1.0;
      };
      for (int i = g; i < g + groupSize; i++) {
        adv[i] = (float) ((rewards[i] - mean) / denom);
      }
    }
    return adv;
  }

  /** Fraction of groups whose rewards are all equal (std 0): they carry no learning signal. */
  public static double fractionZeroStd(float[] rewards, int groupSize) {
    int zero = 0;
    int groups = rewards.length / groupSize;
    for (int g = 0; g < rewards.length; g += groupSize) {
      if (std(rewards, g, g + groupSize) < 1e-8) {
        zero++;
      }
    }
    return groups == 0 ? 0 : (double) zero / groups;
  }

  static double std(float[] x, int from, int to) {
    int n = to - from;
    if (n < 2) {
      return 0;
    }
    double mean = 0;
    for (int i = from; i < to; i++) {
      mean += x[i];
    }
    mean /= n;
    double ss = 0;
    for (int i = from; i < to; i++) {
      ss += (x[i] - mean) * (x[i] - mean);
    }
    return Math.sqrt(ss / (n - 1));
  }
}
