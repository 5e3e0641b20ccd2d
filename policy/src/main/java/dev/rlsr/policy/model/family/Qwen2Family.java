// model_type "qwen2": Qwen2ForCausalLM, Llama with biases on q_proj, k_proj and v_proj, without sliding windows.
package dev.rlsr.policy.model.family;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.StrictJson;
import java.util.LinkedHashMap;

/**
 * Qwen2: Llama with {@link Architecture#qkvBias()} (Hugging Face's Qwen2 always has them, whatever
 * {@code attention_bias} says). Keys read beyond the shared ones of {@link dev.rlsr.policy.model.ModelConfig}:
 * {@code hidden_act} (silu only), {@code rope_scaling} (refused), {@code use_sliding_window} (true refused),
 * {@code attention_bias} (type-checked, otherwise ignored), {@code mlp_bias} (true refused). Layout:
 * {@link DecoderLayout#of} with the tensors {@code model.layers.N.self_attn.{q,k,v}_proj.bias} [H*hd], [KV*hd], [KV*hd].
 */
public final class Qwen2Family implements ModelFamily {
  private static final Architecture ARCHITECTURE = Architecture.LLAMA.withQkvBias(true);

  @Override
  public String modelType() {
    return "qwen2";
  }

  @Override
  public String architectureClass() {
    return "Qwen2ForCausalLM";
  }

  @Override
  public Architecture readArchitecture(StrictJson j) {
    CommonKeys.requireSilu(j);
    CommonKeys.refuseRopeScaling(j);
    CommonKeys.refuseSlidingWindow(j);
    j.optBool("attention_bias", false); // typed like every key; qwen2 has q/k/v biases either way
    CommonKeys.refuseMlpBias(j);
    return ARCHITECTURE;
  }

  @Override
  public LinkedHashMap<String, long[]> layout(ModelConfig c) {
    return DecoderLayout.of(c); // with the q/k/v biases, from ARCHITECTURE
  }

  @Override
  public void addCreatedKeys(ObjectNode config) {
    config.put("use_sliding_window", false);
  }
}
