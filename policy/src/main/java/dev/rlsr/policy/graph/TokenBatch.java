// The token tensors every forward pass and loss reads: right-padded rows of ids, next-token targets, the attention
// mask and position ids, all [B][T].
package dev.rlsr.policy.graph;

import java.util.Arrays;

public record TokenBatch(int[][] ids, int[][] targets, int[][] attention, int[][] positions) {
  public int rows() {
    return ids.length;
  }

  /** Rows [from, to). */
  public TokenBatch slice(int from, int to) {
    return new TokenBatch(Arrays.copyOfRange(ids, from, to), Arrays.copyOfRange(targets, from, to),
        Arrays.copyOfRange(attention, from, to), Arrays.copyOfRange(positions, from, to));
  }
}
