// How a model family rescales the plain rotary inverse frequencies (the hook for Llama 3 rope_scaling).
package dev.rlsr.policy.model.family;

/**
 * Maps the plain inverse frequencies {@code 1 / rope_theta^(2i / head_dim)} to the ones a family's rotary embedding
 * uses. {@link dev.rlsr.policy.model.Rope#inverseFrequencies} applies it, so every backend follows. Implementations
 * should be records (their parameters as components): {@link dev.rlsr.policy.model.ModelConfig} compares by value.
 */
public interface RopeScaling {
  /** No scaling: the llama and qwen2 families as rlsr supports them (their {@code rope_scaling} is refused). */
  RopeScaling NONE = new None();

  /** @param inverseFrequencies double[head_dim / 2], not modified; returns the scaled ones, same length */
  double[] apply(double[] inverseFrequencies);

  /** The identity. */
  record None() implements RopeScaling {
    @Override
    public double[] apply(double[] inverseFrequencies) {
      return inverseFrequencies;
    }
  }
}
