// Rotary position embeddings: the inverse frequencies every rlsr backend uses, defined once.
package dev.rlsr.policy.model;

/**
 * Hugging Face half-rotation rotary embeddings: the angle of pair i at position p is {@code p * invFreq[i]}, and
 * cos/sin tables are {@code cat(angles, angles)} over head_dim.
 */
public final class Rope {
  private Rope() {}

  /**
   * The inverse frequencies, float32 as Hugging Face keeps its {@code inv_freq} buffer:
   * {@code 1 / rope_theta^(2i / head_dim)} for i in [0, head_dim/2), then the family's
   * {@link dev.rlsr.policy.model.family.RopeScaling} (none for llama and qwen2 today).
   *
   * @return float[headDim / 2]
   */
  public static float[] inverseFrequencies(ModelConfig c) {
    int hd = c.headDim();
    double[] f = new double[hd / 2];
    for (int i = 0; i < f.length; i++) {
      f[i] = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / hd);
    }
    f = c.architecture().ropeScaling().apply(f);
    if (f.length != hd / 2) {
      throw new IllegalStateException("rope scaling returned " + f.length + " frequencies, head_dim/2 is " + hd / 2);
    }
    float[] out = new float[f.length];
    for (int i = 0; i < f.length; i++) {
      out[i] = (float) f[i];
    }
    return out;
  }
}
