// The sampling seed of one rollout row, from (run seed, iteration, prompt slot, completion index) alone: the same
// row draws the same tokens on any engine, in any batch, partition or retried task.
package dev.rlsr.rl.rollout;

public final class RowSeeds {
  private RowSeeds() {}

  /** SplitMix64-style mix of the four coordinates; distinct rows get unrelated streams. */
  public static long of(long runSeed, long iteration, long slot, long completion) {
    long h = runSeed * 0x9E3779B97F4A7C15L;
    h = mix(h + iteration * 0xBF58476D1CE4E5B9L);
    h = mix(h + slot * 0x94D049BB133111EBL);
    h = mix(h + completion * 0xD6E8FEB86659FD93L);
    return h;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
