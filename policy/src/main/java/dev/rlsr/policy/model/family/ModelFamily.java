// One model family (a Hugging Face model_type): the config keys it reads and refuses, its weight layout, and the
// blocks in which it differs from plain Llama. The graph builders read only this description, never type strings.
package dev.rlsr.policy.model.family;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.StrictJson;
import java.util.LinkedHashMap;

/**
 * A model family. {@link ModelConfig#fromJson} looks the family up by {@code model_type}
 * ({@link ModelFamilies#forType}), lets it read and refuse its own keys ({@link #readArchitecture}), and reads the
 * keys every family shares itself: vocab_size, hidden_size, intermediate_size, num_hidden_layers,
 * num_attention_heads, num_key_value_heads, head_dim, rope_theta, rms_norm_eps, tie_word_embeddings,
 * max_position_embeddings, bos_token_id, eos_token_id. The rest of rlsr reads the resolved {@link ModelConfig};
 * the weight layout ({@link dev.rlsr.policy.model.ModelWeights#layout}) and the three builders of the forward pass
 * read {@link ModelConfig#architecture()}, {@link dev.rlsr.policy.model.Rope#inverseFrequencies} and
 * {@link dev.rlsr.policy.model.Attention#MASKED_SCORE}.
 *
 * <h2>Adding a family or a variant (as llama rope_scaling, qwen3 and mistral were added)</h2>
 * <ol>
 *   <li>A class {@code XFamily implements ModelFamily} in this package, written from {@link LlamaFamily}:
 *       {@link #modelType()}, {@link #architectureClass()}, {@link #readArchitecture} reading and refusing its
 *       keys (refusals name {@code json.source()} and the key; {@code CommonKeys} has the shared ones),
 *       {@link #layout} ({@link DecoderLayout#of} unless its tensors differ) and {@link #addCreatedKeys}.</li>
 *   <li>Its instance in {@code ModelFamilies.FAMILIES} (this also updates the "supported: ..." refusal).</li>
 *   <li>Where it differs from plain Llama, the {@link Architecture} it returns:
 *     <ul>
 *       <li>q/k/v biases: {@code qkvBias} (done: layout and all builders follow it).</li>
 *       <li>rotary scaling: a record implementing {@link RopeScaling} (done: {@code Linear}, {@code Llama3}), read
 *           from {@code rope_scaling} in {@code readArchitecture} ({@code CommonKeys.readRopeScaling}, as
 *           {@link LlamaFamily} does, instead of {@code CommonKeys.refuseRopeScaling});
 *           {@link dev.rlsr.policy.model.Rope#inverseFrequencies} applies it and every builder uses that, so no
 *           builder changes.</li>
 *       <li>head_dim different from hidden_size / heads (Qwen3): nothing to do, {@link ModelConfig#headDim()} is the
 *           explicit value and the only one layout and builders use.</li>
 *       <li>per-head q/k RMSNorm (Qwen3 {@code q_norm}/{@code k_norm}): {@code qkNorm} (done: the tensors in
 *           {@link DecoderLayout#of}, and all three builders, as {@link Qwen3Family} uses it).</li>
 *       <li>any other difference (a sliding window that binds, ...): a new {@link Architecture} component whose
 *           default in {@link Architecture#LLAMA} is plain Llama, read in the same three builders, and refused
 *           by {@link Architecture#requireImplemented} until all three implement it.</li>
 *     </ul></li>
 *   <li>Tests: its configs in the parity tests, TF vs reference ({@code GraphParityTest}, policy), ORT vs reference
 *       ({@code OnnxPolicyParityTest}, export) and TF vs ORT ({@code TfOrtParityTest}, export), plus its refusals
 *       (as {@code SafetensorsRoundTripTest.unsupportedConfigKeysAreNamed}) and, if the reference changed, a check of
 *       the reference itself ({@code NaiveLlamaTest}). {@code ModelConfig.builder} makes tiny configs of any family.</li>
 * </ol>
 */
public interface ModelFamily {
  /** The {@code model_type} of config.json. */
  String modelType();

  /** The {@code architectures} entry of a config.json that rlsr creates ({@link ModelConfig#builder}). */
  String architectureClass();

  /**
   * Reads and validates the family-specific keys of config.json, in the order refusals are reported; every refusal
   * is an {@link dev.rlsr.policy.util.RlsrException} naming {@code json.source()} (the file) and the key.
   */
  Architecture readArchitecture(StrictJson json);

  /** Every weight tensor by Hugging Face name, in forward-pass order, with its shape. */
  LinkedHashMap<String, long[]> layout(ModelConfig c);

  /** Adds the family's own keys, with the values rlsr supports, to a config.json rlsr creates. */
  void addCreatedKeys(ObjectNode config);
}
