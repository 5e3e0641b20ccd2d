// How a model family rescales the plain rotary inverse frequencies: none, linear, llama3 (transformers' rope_type).
package dev.rlsr.policy.model.family;

/**
 * Maps the plain inverse frequencies {@code 1 / rope_theta^(2i / head_dim)} to the ones a family's rotary embedding
 * uses. {@link dev.rlsr.policy.model.Rope#inverseFrequencies} applies it, so every backend follows. Implementations
 * are records (their parameters as components): {@link dev.rlsr.policy.model.ModelConfig} compares by value.
 *
 * <p>Precision: Hugging Face transformers computes {@code inv_freq} and these adjustments as float32 torch tensor ops
 * with Python-float scalars (which torch casts to float32 for a float32 tensor), so {@link #apply} works on float32
 * values and writes every torch op as the same float op in the same order. {@code scalar / tensor} is, in torch,
 * {@code tensor.reciprocal() * scalar} ({@code Tensor.__rtruediv__}), and is written so. The attention scaling
 * ({@code attention_factor}) of every type here is 1.0.
 */
public interface RopeScaling {
  /** No scaling (rope_scaling absent, null or {@code rope_type: "default"}). */
  RopeScaling NONE = new None();

  /** @param inverseFrequencies float[head_dim / 2], not modified; returns the scaled ones, same length */
  float[] apply(float[] inverseFrequencies);

  /** The identity. */
  record None() implements RopeScaling {
    @Override
    public float[] apply(float[] inverseFrequencies) {
      return inverseFrequencies;
    }
  }

  /**
   * {@code rope_type: "linear"} (transformers {@code _compute_linear_scaling_rope_parameters}): {@code inv_freq /=
   * factor}, the same as dividing positions by factor.
   */
  record Linear(double factor) implements RopeScaling {
    @Override
    public float[] apply(float[] inv) {
      float[] out = new float[inv.length];
      for (int i = 0; i < inv.length; i++) {
        out[i] = inv[i] / (float) factor;
      }
      return out;
    }
  }

  /**
   * {@code rope_type: "llama3"} (transformers {@code _compute_llama3_parameters}): wavelengths {@code 2*pi/inv_freq}
   * longer than {@code original_max_position_embeddings / low_freq_factor} are divided by factor, shorter than
   * {@code original_max_position_embeddings / high_freq_factor} are kept, the band between is interpolated with
   * {@code smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)}.
   */
  record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions)
      implements RopeScaling {
    @Override
    public float[] apply(float[] inv) {
      // Python floats, as transformers computes them; torch casts them to float32 against the float32 tensor
      float lowFreqWavelen = (float) (originalMaxPositions / lowFreqFactor);
      float highFreqWavelen = (float) (originalMaxPositions / highFreqFactor);
      float twoPi = (float) (2 * Math.PI);
      float f = (float) factor;
      float oldContext = (float) originalMaxPositions;
      float low = (float) lowFreqFactor;
      float band = (float) (highFreqFactor - lowFreqFactor);
      float[] out = new float[inv.length];
      for (int i = 0; i < inv.length; i++) {
        float wavelen = (1f / inv[i]) * twoPi;                                  // 2 * math.pi / inv_freq
        float llama = wavelen > lowFreqWavelen ? inv[i] / f : inv[i];           // where(wavelen > low, inv/f, inv)
        float smooth = ((1f / wavelen) * oldContext - low) / band;              // (old / wavelen - low) / (high - low)
        float smoothed = (1f - smooth) * llama / f + smooth * llama;
        boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
        out[i] = medium ? smoothed : llama;
      }
      return out;
    }
  }
}
