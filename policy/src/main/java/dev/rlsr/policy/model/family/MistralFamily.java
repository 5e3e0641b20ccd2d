// model_type "mistral": MistralForCausalLM, plain Llama blocks, accepted when its sliding window never binds.
package dev.rlsr.policy.model.family;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import java.util.LinkedHashMap;

/**
 * Mistral: the blocks of plain Llama ({@link Architecture#LLAMA}). Keys read beyond the shared ones of
 * {@link dev.rlsr.policy.model.ModelConfig}: {@code hidden_act} (silu only), {@code rope_scaling} (refused unless
 * absent or null), {@code sliding_window}, {@code attention_bias} and {@code mlp_bias} (true refused).
 *
 * <p>{@code sliding_window}: null means plain causal attention. A number is accepted only when it is at least
 * {@code max_position_embeddings}: then the window never binds within the model's context, and sliding-window
 * attention equals plain causal attention. This is the static form of "at least the longest sequence a run uses"
 * (a run never goes past max_position_embeddings); a shorter window is refused, since sliding-window attention is
 * not implemented. An absent key is transformers' {@code MistralConfig} default, 4096, and is checked the same way.
 */
public final class MistralFamily implements ModelFamily {
  /** transformers' {@code MistralConfig(sliding_window=4096)}: the window of a config.json without the key. */
  static final int DEFAULT_SLIDING_WINDOW = 4096;

  @Override
  public String modelType() {
    return "mistral";
  }

  @Override
  public String architectureClass() {
    return "MistralForCausalLM";
  }

  @Override
  public Architecture readArchitecture(StrictJson j) {
    CommonKeys.requireSilu(j);
    CommonKeys.refuseRopeScaling(j);
    boolean absent = !j.node().has("sliding_window");
    if (absent || j.has("sliding_window")) {
      int window = absent ? DEFAULT_SLIDING_WINDOW : j.requirePositiveInt("sliding_window");
      int maxPositions = j.optPositiveInt("max_position_embeddings", ModelConfig.DEFAULT_MAX_POSITIONS);
      if (window < maxPositions) {
        throw new RlsrException(j.source() + ": sliding_window " + window
            + (absent ? " (absent: the transformers default)" : "")
            + " is shorter than max_position_embeddings " + maxPositions
            + ": sliding-window attention is not implemented; set sliding_window to null (plain causal attention) or"
            + " to at least max_position_embeddings, or lower max_position_embeddings to the window");
      }
    }
    if (j.optBool("attention_bias", false)) {
      throw new RlsrException(j.source() + ": attention_bias=true is not supported for mistral");
    }
    CommonKeys.refuseMlpBias(j);
    return Architecture.LLAMA;
  }

  @Override
  public LinkedHashMap<String, long[]> layout(ModelConfig c) {
    return DecoderLayout.of(c);
  }

  @Override
  public void addCreatedKeys(ObjectNode config) {
    config.putNull("sliding_window");
  }
}
