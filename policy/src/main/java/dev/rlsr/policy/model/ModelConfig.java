// Architecture config of a Llama-family causal LM, read only from a Hugging Face config.json.
// Maps HF keys to descriptive names, fills HF defaults, and refuses what the graph does not implement.
package dev.rlsr.policy.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * @param modelType           {@code model_type}: "llama" or "qwen2"
 * @param vocabSize           {@code vocab_size}: rows of the embedding matrix
 * @param hiddenSize          {@code hidden_size}: model width d
 * @param intermediateSize    {@code intermediate_size}: SwiGLU inner width
 * @param numLayers           {@code num_hidden_layers}
 * @param numHeads            {@code num_attention_heads}: query heads
 * @param numKvHeads          {@code num_key_value_heads}: key/value heads (GQA); defaults to numHeads
 * @param headDim             {@code head_dim}: defaults to hiddenSize / numHeads
 * @param ropeTheta           {@code rope_theta}: rotary base, default 10000
 * @param rmsNormEps          {@code rms_norm_eps}: default 1e-6
 * @param tieWordEmbeddings   {@code tie_word_embeddings}: lm_head shares embed_tokens
 * @param attentionBias       q/k/v projections carry biases (qwen2)
 * @param maxPositions        {@code max_position_embeddings}
 * @param bosTokenId          {@code bos_token_id} or -1
 * @param eosTokenIds         {@code eos_token_id} (int or list), may be empty
 * @param raw                 the original config.json, kept so a saved checkpoint loses no key
 */
public record ModelConfig(
    String modelType,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    double ropeTheta,
    double rmsNormEps,
    boolean tieWordEmbeddings,
    boolean attentionBias,
    int maxPositions,
    int bosTokenId,
    List<Integer> eosTokenIds,
    ObjectNode raw) {

  public static final List<String> SUPPORTED_TYPES = List.of("llama", "qwen2");

  /**
   * Reads and validates {@code dir/config.json}; every refusal names the file and the key. Values are typed (see
   * {@link StrictJson}): a wrongly typed value ({@code "rms_norm_eps": "x"}, {@code "hidden_size": 64.5},
   * {@code "tie_word_embeddings": "yes"}) is refused, an absent or null optional key takes its default.
   */
  public static ModelConfig read(Path configJson) {
    if (!Files.isRegularFile(configJson)) {
      throw new RlsrException(configJson + ": not found (a Hugging Face model directory needs config.json)");
    }
    return fromJson(StrictJson.readObject(configJson), configJson.toString());
  }

  public static ModelConfig fromJson(ObjectNode c, String source) {
    StrictJson j = StrictJson.of(c, source);
    String type = j.optString("model_type", "");
    if (!SUPPORTED_TYPES.contains(type)) {
      throw new RlsrException(source + ": model_type \"" + type + "\" is not supported (supported: "
          + String.join(", ", SUPPORTED_TYPES) + ")");
    }
    String act = j.optString("hidden_act", "silu");
    if (!act.equals("silu")) {
      throw new RlsrException(source + ": hidden_act \"" + act + "\" is not supported (only silu)");
    }
    if (j.has("rope_scaling")) { // null means none, as in transformers
      throw new RlsrException(source + ": rope_scaling is not supported (remove it or use a model without rotary scaling)");
    }
    if (j.optBool("use_sliding_window", false)) {
      throw new RlsrException(source + ": use_sliding_window=true (sliding-window attention) is not supported");
    }
    boolean attentionBias = j.optBool("attention_bias", false);
    if (type.equals("llama") && attentionBias) {
      throw new RlsrException(source + ": attention_bias=true is not supported for llama (its o_proj bias is not implemented)");
    }
    if (j.optBool("mlp_bias", false)) {
      throw new RlsrException(source + ": mlp_bias=true is not supported");
    }
    int hidden = j.requirePositiveInt("hidden_size");
    int heads = j.requirePositiveInt("num_attention_heads");
    int kvHeads = j.optPositiveInt("num_key_value_heads", heads);
    if (heads % kvHeads != 0) {
      throw new RlsrException(source + ": num_attention_heads (" + heads + ") must be a multiple of num_key_value_heads (" + kvHeads + ")");
    }
    int headDim;
    if (j.has("head_dim")) {
      headDim = j.requirePositiveInt("head_dim");
    } else {
      if (hidden % heads != 0) {
        throw new RlsrException(source + ": hidden_size (" + hidden + ") is not divisible by num_attention_heads (" + heads + ") and head_dim is not given");
      }
      headDim = hidden / heads;
    }
    if (headDim % 2 != 0) {
      throw new RlsrException(source + ": head_dim (" + headDim + ") must be even for rotary embeddings");
    }
    boolean bias = type.equals("qwen2"); // q/k/v biases; llama with attention_bias is refused above
    return new ModelConfig(
        type,
        j.requirePositiveInt("vocab_size"),
        hidden,
        j.requirePositiveInt("intermediate_size"),
        j.requirePositiveInt("num_hidden_layers"),
        heads,
        kvHeads,
        headDim,
        j.optPositiveDouble("rope_theta", 10000.0),
        j.optPositiveDouble("rms_norm_eps", 1e-6),
        j.optBool("tie_word_embeddings", false),
        bias,
        j.optPositiveInt("max_position_embeddings", 2048),
        j.optInt("bos_token_id", -1),
        List.copyOf(j.optIntOrList("eos_token_id")),
        c.deepCopy());
  }

  /** Number of query heads sharing one key/value head. */
  public int groupSize() {
    return numHeads / numKvHeads;
  }

  /** The config as it is written into a saved checkpoint: the original keys, dtype set to float32. */
  public ObjectNode toJson() {
    ObjectNode out = raw.deepCopy();
    out.put("torch_dtype", "float32");
    return out;
  }

  /** A new config.json for a model rlsr creates (tests, the demo's base model). */
  public static ModelConfig create(String type, int vocab, int hidden, int inter, int layers, int heads,
      int kvHeads, Integer headDim, boolean tied, double ropeTheta, int maxPositions, int bos, int eos) {
    ObjectNode c = Json.MAPPER.createObjectNode();
    c.put("model_type", type);
    c.putArray("architectures").add(type.equals("qwen2") ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    c.put("vocab_size", vocab);
    c.put("hidden_size", hidden);
    c.put("intermediate_size", inter);
    c.put("num_hidden_layers", layers);
    c.put("num_attention_heads", heads);
    c.put("num_key_value_heads", kvHeads);
    if (headDim != null) {
      c.put("head_dim", headDim);
    }
    c.put("hidden_act", "silu");
    c.put("rope_theta", ropeTheta);
    c.put("rms_norm_eps", 1e-6);
    c.put("tie_word_embeddings", tied);
    c.put("max_position_embeddings", maxPositions);
    c.put("bos_token_id", bos);
    c.put("eos_token_id", eos);
    c.put("torch_dtype", "float32");
    if (type.equals("llama")) {
      c.put("attention_bias", false);
      c.put("mlp_bias", false);
    } else {
      c.put("use_sliding_window", false);
    }
    return fromJson(c, "<created config>");
  }
}
