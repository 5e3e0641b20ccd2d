// model_type "qwen3": Qwen3ForCausalLM, Llama with a per-head RMSNorm of queries and keys, without q/k/v biases.
package dev.rlsr.policy.model.family;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import java.util.LinkedHashMap;

/**
 * Qwen3: Llama with {@link Architecture#qkNorm()} (transformers {@code Qwen3Attention}:
 * {@code q = q_norm(q_proj(x).view(..., head_dim))}, the same for k, then rotary), head_dim explicit in its configs
 * (and free to differ from hidden_size / heads). Keys read beyond the shared ones of
 * {@link dev.rlsr.policy.model.ModelConfig}: {@code hidden_act} (silu only), {@code rope_scaling} (refused unless
 * absent or null), {@code use_sliding_window} (true refused; {@code sliding_window} and {@code max_window_layers}
 * then do nothing, as in transformers), {@code attention_bias} (true refused: Qwen3's q/k/v/o biases are not
 * implemented), {@code mlp_bias} (true refused). Layout: {@link DecoderLayout#of} with
 * {@code model.layers.N.self_attn.q_norm.weight} and {@code k_norm.weight} [head_dim].
 */
public final class Qwen3Family implements ModelFamily {
  private static final Architecture ARCHITECTURE = Architecture.LLAMA.withQkNorm(true);

  @Override
  public String modelType() {
    return "qwen3";
  }

  @Override
  public String architectureClass() {
    return "Qwen3ForCausalLM";
  }

  @Override
  public Architecture readArchitecture(StrictJson j) {
    CommonKeys.requireSilu(j);
    CommonKeys.refuseRopeScaling(j);
    CommonKeys.refuseSlidingWindow(j);
    if (j.optBool("attention_bias", false)) {
      throw new RlsrException(j.source() + ": attention_bias=true is not supported for qwen3 (its q/k/v/o_proj biases are not implemented)");
    }
    CommonKeys.refuseMlpBias(j);
    return ARCHITECTURE;
  }

  @Override
  public LinkedHashMap<String, long[]> layout(ModelConfig c) {
    return DecoderLayout.of(c); // with q_norm / k_norm, from ARCHITECTURE
  }

  @Override
  public void addCreatedKeys(ObjectNode config) {
    config.put("attention_bias", false);
    config.put("use_sliding_window", false);
  }
}
