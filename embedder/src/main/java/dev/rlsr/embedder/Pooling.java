// Pooling of an encoder's token vectors into one sentence vector (sentence-transformers' Pooling module modes).
package dev.rlsr.embedder;

/** How token vectors become a sentence vector; only positions whose attention mask is 1 take part. */
public enum Pooling {
  /** Average of the token vectors (all-MiniLM-L6-v2, e5-small-v2). */
  MEAN,
  /** The first token's vector ([CLS]). */
  CLS,
  /** Element-wise maximum over the token vectors. */
  MAX,
  /**
   * The last real token's vector (sentence-transformers' {@code pooling_mode_lasttoken}: decoder embedders such as
   * Qwen3-Embedding, gte-Qwen2, e5-mistral): the last position whose attention mask is 1, so left and right padding
   * give the same vector.
   */
  LASTTOKEN;

  /**
   * Pools one right-padded sequence of {@code hidden[offset + pos * dim + j]}, positions {@code 0 <= pos < length}
   * being real tokens (padding lies after them and is ignored).
   */
  float[] pool(float[] hidden, int offset, int length, int dim) {
    int[] mask = new int[length];
    java.util.Arrays.fill(mask, 1);
    return pool(hidden, offset, mask, dim);
  }

  /**
   * Pools one sequence of {@code mask.length} positions, {@code hidden[offset + pos * dim + j]}, over the positions
   * whose {@code mask} is 1, wherever the padding lies (left, right, or both); CLS takes the first real position.
   */
  float[] pool(float[] hidden, int offset, int[] mask, int dim) {
    float[] out = new float[dim];
    int first = -1;
    int last = -1;
    int count = 0;
    for (int pos = 0; pos < mask.length; pos++) {
      if (mask[pos] != 0) {
        first = first < 0 ? pos : first;
        last = pos;
        count++;
      }
    }
    if (count == 0) {
      throw new IllegalArgumentException("a sequence with no real token (attention mask all 0) has no sentence vector");
    }
    switch (this) {
      case CLS -> System.arraycopy(hidden, offset + first * dim, out, 0, dim);
      case LASTTOKEN -> System.arraycopy(hidden, offset + last * dim, out, 0, dim);
      case MAX -> {
        System.arraycopy(hidden, offset + first * dim, out, 0, dim);
        for (int pos = first + 1; pos <= last; pos++) {
          if (mask[pos] == 0) {
            continue;
          }
          int base = offset + pos * dim;
          for (int j = 0; j < dim; j++) {
            out[j] = Math.max(out[j], hidden[base + j]);
          }
        }
      }
      case MEAN -> {
        for (int pos = first; pos <= last; pos++) {
          if (mask[pos] == 0) {
            continue;
          }
          int base = offset + pos * dim;
          for (int j = 0; j < dim; j++) {
            out[j] += hidden[base + j];
          }
        }
        for (int j = 0; j < dim; j++) {
          out[j] /= count;
        }
      }
      default -> throw new AssertionError(this);
    }
    return out;
  }
}
