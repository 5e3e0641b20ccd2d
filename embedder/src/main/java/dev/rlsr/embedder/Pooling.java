// Pooling of an encoder's token vectors into one sentence vector (sentence-transformers' Pooling module modes).
package dev.rlsr.embedder;

/** How token vectors become a sentence vector; only positions whose attention mask is 1 take part. */
public enum Pooling {
  /** Average of the token vectors (all-MiniLM-L6-v2, e5-small-v2). */
  MEAN,
  /** The first token's vector ([CLS]). */
  CLS,
  /** Element-wise maximum over the token vectors. */
  MAX;

  /**
   * Pools one sequence of {@code hidden[offset + pos * dim + j]}, positions {@code 0 <= pos < length} being real tokens
   * (padding lies after them and is ignored).
   */
  float[] pool(float[] hidden, int offset, int length, int dim) {
    float[] out = new float[dim];
    switch (this) {
      case CLS:
        System.arraycopy(hidden, offset, out, 0, dim);
        break;
      case MAX:
        System.arraycopy(hidden, offset, out, 0, dim);
        for (int pos = 1; pos < length; pos++) {
          int base = offset + pos * dim;
          for (int j = 0; j < dim; j++) {
            out[j] = Math.max(out[j], hidden[base + j]);
          }
        }
        break;
      case MEAN:
        for (int pos = 0; pos < length; pos++) {
          int base = offset + pos * dim;
          for (int j = 0; j < dim; j++) {
            out[j] += hidden[base + j];
          }
        }
        for (int j = 0; j < dim; j++) {
          out[j] /= length;
        }
        break;
      default:
        throw new AssertionError(this);
    }
    return out;
  }
}
