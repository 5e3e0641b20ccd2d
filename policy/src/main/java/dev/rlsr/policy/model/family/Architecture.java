// The blocks in which a model family differs from plain Llama, as the graph builders read them.
package dev.rlsr.policy.model.family;

import java.util.Objects;

/**
 * What the three builders of the forward pass (the TensorFlow graph {@code LlamaGraph}, the ONNX graph of the export
 * module and the test reference {@code NaiveLlama}) and {@link DecoderLayout} need to know beyond the sizes in
 * {@link dev.rlsr.policy.model.ModelConfig}. {@link #LLAMA} is plain Llama; a family states only what differs.
 * (head_dim is not here: {@link dev.rlsr.policy.model.ModelConfig#headDim()} is always the explicit value, from
 * {@code head_dim} when config.json gives it, and builders never derive it from hidden_size.)
 *
 * @param qkvBias     q_proj, k_proj and v_proj carry biases ({@code self_attn.{q,k,v}_proj.bias}; qwen2); o_proj never does
 * @param qkNorm      a per-head RMSNorm over head_dim on queries and keys before rotary ({@code self_attn.q_norm.weight},
 *                    {@code k_norm.weight} [head_dim]; Qwen3), applied to each query and key head after the q_proj/k_proj
 *                    reshape and before rotary, eps rms_norm_eps
 * @param ropeScaling how the rotary inverse frequencies are rescaled ({@link RopeScaling#NONE} for plain rotary)
 */
public record Architecture(boolean qkvBias, boolean qkNorm, RopeScaling ropeScaling) {
  /** Plain Llama: no biases, no q/k norm, unscaled rotary. */
  public static final Architecture LLAMA = new Architecture(false, false, RopeScaling.NONE);

  public Architecture {
    Objects.requireNonNull(ropeScaling, "ropeScaling");
  }

  public Architecture withQkvBias(boolean bias) {
    return new Architecture(bias, qkNorm, ropeScaling);
  }

  public Architecture withQkNorm(boolean norm) {
    return new Architecture(qkvBias, norm, ropeScaling);
  }

  public Architecture withRopeScaling(RopeScaling scaling) {
    return new Architecture(qkvBias, qkNorm, scaling);
  }

  /**
   * Throws if the description asks for a block that {@code builder} does not implement yet; every builder calls it
   * first, so a new family cannot be computed silently wrong. Every component today (q/k/v biases, q/k norm, rotary
   * scaling) is implemented by all builders, so it checks nothing; a new component adds its check here until the
   * layout and the three builders follow it.
   */
  public void requireImplemented(String builder) {
    Objects.requireNonNull(builder, "builder");
  }
}
