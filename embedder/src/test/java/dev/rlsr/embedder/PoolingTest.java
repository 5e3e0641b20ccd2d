// Every pooling mode over the positions whose attention mask is 1, wherever the padding lies: last-token pooling (the
// decoder embedders') takes the last real position, so left- and right-padded rows give the same vector.
package dev.rlsr.embedder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PoolingTest {
  static final int DIM = 3;
  /** Three real tokens' vectors. */
  static final float[][] TOKENS = {{1, -2, 3}, {4, 5, -6}, {-7, 8, 9}};

  /** [pad...] tokens [pad...] as a flat [positions, DIM] array and its mask. */
  private static float[] row(int left, int right) {
    float[] h = new float[(left + TOKENS.length + right) * DIM];
    java.util.Arrays.fill(h, 100f); // padding positions hold junk that must never show
    for (int t = 0; t < TOKENS.length; t++) {
      System.arraycopy(TOKENS[t], 0, h, (left + t) * DIM, DIM);
    }
    return h;
  }

  private static int[] mask(int left, int right) {
    int[] m = new int[left + TOKENS.length + right];
    java.util.Arrays.fill(m, left, left + TOKENS.length, 1);
    return m;
  }

  @Test
  void everyModeIgnoresPaddingOnEitherSide() {
    float[][] expected = {
        {(1 + 4 - 7) / 3f, (-2 + 5 + 8) / 3f, (3 - 6 + 9) / 3f}, // MEAN
        TOKENS[0],                                              // CLS
        {4, 8, 9},                                              // MAX
        TOKENS[2]};                                             // LASTTOKEN
    Pooling[] modes = {Pooling.MEAN, Pooling.CLS, Pooling.MAX, Pooling.LASTTOKEN};
    int[][] paddings = {{0, 0}, {0, 2}, {3, 0}, {1, 2}};
    for (int i = 0; i < modes.length; i++) {
      for (int[] p : paddings) {
        assertThat(modes[i].pool(row(p[0], p[1]), 0, mask(p[0], p[1]), DIM)).as(modes[i] + " padded " + p[0] + "/" + p[1])
            .containsExactly(expected[i]);
      }
      // the right-padded form the encoder session uses
      float[] h = row(0, 2);
      assertThat(modes[i].pool(h, 0, TOKENS.length, DIM)).containsExactly(expected[i]);
    }
    // an offset into a batch: the second row of two
    float[] batch = new float[2 * 5 * DIM];
    System.arraycopy(row(2, 0), 0, batch, 5 * DIM, 5 * DIM);
    assertThat(Pooling.LASTTOKEN.pool(batch, 5 * DIM, mask(2, 0), DIM)).containsExactly(TOKENS[2]);
    assertThatThrownBy(() -> Pooling.LASTTOKEN.pool(new float[6], 0, new int[2], DIM))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no real token");
  }
}
