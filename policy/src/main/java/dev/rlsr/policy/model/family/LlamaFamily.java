// model_type "llama": LlamaForCausalLM as Hugging Face defines it (rope_scaling default/linear/llama3), without biases.
package dev.rlsr.policy.model.family;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import java.util.LinkedHashMap;

/**
 * Plain Llama ({@link Architecture#LLAMA}) with the rotary scaling of {@code rope_scaling}. Keys read beyond the
 * shared ones of {@link dev.rlsr.policy.model.ModelConfig}: {@code hidden_act} (silu only), {@code rope_scaling}
 * (rope_type or legacy type default, linear or llama3: {@link RopeScaling}; any other refused),
 * {@code use_sliding_window} (true refused), {@code attention_bias} (true refused: Llama's o_proj bias is not
 * implemented), {@code mlp_bias} (true refused). Layout: {@link DecoderLayout#of} without biases.
 */
public final class LlamaFamily implements ModelFamily {
  @Override
  public String modelType() {
    return "llama";
  }

  @Override
  public String architectureClass() {
    return "LlamaForCausalLM";
  }

  @Override
  public Architecture readArchitecture(StrictJson j) {
    CommonKeys.requireSilu(j);
    RopeScaling scaling = CommonKeys.readRopeScaling(j);
    CommonKeys.refuseSlidingWindow(j);
    if (j.optBool("attention_bias", false)) {
      throw new RlsrException(j.source() + ": attention_bias=true is not supported for llama (its o_proj bias is not implemented)");
    }
    CommonKeys.refuseMlpBias(j);
    return Architecture.LLAMA.withRopeScaling(scaling);
  }

  @Override
  public LinkedHashMap<String, long[]> layout(ModelConfig c) {
    return DecoderLayout.of(c);
  }

  @Override
  public void addCreatedKeys(ObjectNode config) {
    config.put("attention_bias", false);
    config.put("mlp_bias", false);
  }
}
