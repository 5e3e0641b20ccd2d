// Rotary position embeddings: the inverse frequencies every rlsr backend uses, defined once.
package dev.rlsr.policy.model;

/**
 * Hugging Face half-rotation rotary embeddings: the angle of pair i at position p is {@code p * invFreq[i]}, and
 * cos/sin tables are {@code cat(angles, angles)} over head_dim.
 */
public final class Rope {
  private Rope() {}

  /**
   * The inverse frequencies exactly as Hugging Face transformers computes its float32 {@code inv_freq} buffer
   * ({@code _compute_default_rope_parameters}): {@code 1.0 / (base ** (arange(0, dim, 2, int64).float() / dim))}, i.e.
   * the exponent {@code 2i / head_dim} as a float32 division, the power in float32 (here the correctly rounded
   * float of the exact power, which is what a float32 pow returns to within its last bit) and the reciprocal in
   * float32; then the family's {@link dev.rlsr.policy.model.family.RopeScaling} in float32 as well.
   *
   * @return float[headDim / 2]
   */
  public static float[] inverseFrequencies(ModelConfig c) {
    int hd = c.headDim();
    float base = (float) c.ropeTheta();
    float[] f = new float[hd / 2];
    for (int i = 0; i < f.length; i++) {
      float exponent = (float) (2 * i) / (float) hd;
      float power = (float) Math.pow(base, exponent);
      f[i] = 1f / power;
    }
    f = c.architecture().ropeScaling().apply(f);
    if (f.length != hd / 2) {
      throw new IllegalStateException("rope scaling returned " + f.length + " frequencies, head_dim/2 is " + hd / 2);
    }
    return f;
  }
}
