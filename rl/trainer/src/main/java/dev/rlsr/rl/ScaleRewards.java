// How rewards become advantages (TRL's scale_rewards): always centred on the group mean, then divided by a std.
package dev.rlsr.rl;

public enum ScaleRewards {
  /** Â = (r - mean_group) / (std_group + 1e-4): the original GRPO (Shao et al. 2024). */
  GROUP,
  /** Â = (r - mean_group) / (std_batch + 1e-4): batch-level scaling (Hu et al. 2025, REINFORCE++), robust when a group is nearly constant. */
  BATCH,
  /** Â = r - mean_group: no scaling (Dr. GRPO, Liu et al. 2025), avoids up-weighting near-constant groups. */
  NONE;

  /** The scaling named as on the command line ({@code group}, {@code batch}, {@code none}, any case). */
  public static ScaleRewards parse(String name) {
    return valueOf(name.toUpperCase(java.util.Locale.ROOT));
  }
}
