// Attention constants shared by every rlsr backend: the TensorFlow graph, the ONNX graph and the test reference.
package dev.rlsr.policy.model;

/** The masking rule of every rlsr backend: key j is visible to query i iff j <= i and attention_mask[j] == 1. */
public final class Attention {
  /**
   * Additive score of a key a query may not see (a later position or padding). Finite, not -inf, so a fully masked
   * (pad) query row stays finite; -1e9 is exact in float32 and in double.
   */
  public static final float MASKED_SCORE = -1e9f;

  private Attention() {}
}
