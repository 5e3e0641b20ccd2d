// Architecture config of a Llama-family causal LM, read only from a Hugging Face config.json.
// Maps HF keys to descriptive names, fills HF defaults; the model family (model.family) reads and refuses its own keys.
package dev.rlsr.policy.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.family.Architecture;
import dev.rlsr.policy.model.family.ModelFamilies;
import dev.rlsr.policy.model.family.ModelFamily;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * @param modelType           {@code model_type}: one of {@link ModelFamilies#supportedTypes()} (llama, qwen2, qwen3, mistral)
 * @param sizes               vocabulary, width, SwiGLU width and depth
 * @param attention           heads, head width and rotary settings
 * @param rmsNormEps          {@code rms_norm_eps}: default 1e-6
 * @param tieWordEmbeddings   {@code tie_word_embeddings}: lm_head shares embed_tokens
 * @param architecture        how the family's blocks differ from plain Llama (q/k/v biases for qwen2, q/k norm for qwen3, rope scaling), from {@link #family()}
 * @param tokenIds            the BOS and EOS ids
 * @param raw                 the original config.json, kept so a saved checkpoint loses no key
 */
public record ModelConfig(
    String modelType,
    Sizes sizes,
    Attention attention,
    double rmsNormEps,
    boolean tieWordEmbeddings,
    Architecture architecture,
    TokenIds tokenIds,
    ObjectNode raw) {

  /**
   * @param vocabSize        {@code vocab_size}: rows of the embedding matrix
   * @param hiddenSize       {@code hidden_size}: model width d
   * @param intermediateSize {@code intermediate_size}: SwiGLU inner width
   * @param numLayers        {@code num_hidden_layers}
   */
  public record Sizes(int vocabSize, int hiddenSize, int intermediateSize, int numLayers) {}

  /**
   * @param numHeads     {@code num_attention_heads}: query heads
   * @param numKvHeads   {@code num_key_value_heads}: key/value heads (GQA); defaults to numHeads
   * @param headDim      {@code head_dim}: defaults to hiddenSize / numHeads
   * @param ropeTheta    {@code rope_theta}: rotary base, default 10000
   * @param maxPositions {@code max_position_embeddings}
   */
  public record Attention(int numHeads, int numKvHeads, int headDim, double ropeTheta, int maxPositions) {}

  /**
   * @param bosTokenId  {@code bos_token_id} or -1
   * @param eosTokenIds {@code eos_token_id} (int or list), may be empty
   */
  public record TokenIds(int bosTokenId, List<Integer> eosTokenIds) {}

  /** {@code max_position_embeddings} of a config.json without the key. */
  public static final int DEFAULT_MAX_POSITIONS = 2048;

  public ModelConfig {
    ModelFamilies.forType(modelType, "model config");
    Objects.requireNonNull(architecture, "architecture");
  }

  /** {@code vocab_size}: rows of the embedding matrix. */
  public int vocabSize() {
    return sizes.vocabSize();
  }

  /** {@code hidden_size}: model width d. */
  public int hiddenSize() {
    return sizes.hiddenSize();
  }

  /** {@code intermediate_size}: SwiGLU inner width. */
  public int intermediateSize() {
    return sizes.intermediateSize();
  }

  /** {@code num_hidden_layers}. */
  public int numLayers() {
    return sizes.numLayers();
  }

  /** {@code num_attention_heads}: query heads. */
  public int numHeads() {
    return attention.numHeads();
  }

  /** {@code num_key_value_heads}: key/value heads (GQA); defaults to numHeads. */
  public int numKvHeads() {
    return attention.numKvHeads();
  }

  /** {@code head_dim}: defaults to hiddenSize / numHeads. */
  public int headDim() {
    return attention.headDim();
  }

  /** {@code rope_theta}: rotary base, default 10000. */
  public double ropeTheta() {
    return attention.ropeTheta();
  }

  /** {@code max_position_embeddings}. */
  public int maxPositions() {
    return attention.maxPositions();
  }

  /** {@code bos_token_id} or -1. */
  public int bosTokenId() {
    return tokenIds.bosTokenId();
  }

  /** {@code eos_token_id} (int or list), may be empty. */
  public List<Integer> eosTokenIds() {
    return tokenIds.eosTokenIds();
  }

  /** The family of {@link #modelType()}: its keys, weight layout and architecture. */
  public ModelFamily family() {
    return ModelFamilies.forType(modelType, "model config");
  }

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
    ModelFamily family = ModelFamilies.forType(j.optString("model_type", ""), source);
    Architecture architecture = family.readArchitecture(j); // the family's own keys and refusals
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
    // read in this order, so a config with several bad keys is refused for the same one as always
    int vocab = j.requirePositiveInt("vocab_size");
    int intermediate = j.requirePositiveInt("intermediate_size");
    int layers = j.requirePositiveInt("num_hidden_layers");
    double ropeTheta = j.optPositiveDouble("rope_theta", 10000.0);
    double rmsNormEps = j.optPositiveDouble("rms_norm_eps", 1e-6);
    boolean tied = j.optBool("tie_word_embeddings", false);
    int maxPositions = j.optPositiveInt("max_position_embeddings", DEFAULT_MAX_POSITIONS);
    int bos = j.optInt("bos_token_id", -1);
    List<Integer> eos = List.copyOf(j.optIntOrList("eos_token_id"));
    return new ModelConfig(
        family.modelType(),
        new Sizes(vocab, hidden, intermediate, layers),
        new Attention(heads, kvHeads, headDim, ropeTheta, maxPositions),
        rmsNormEps,
        tied,
        architecture,
        new TokenIds(bos, eos),
        c.deepCopy());
  }

  /** Number of query heads sharing one key/value head. */
  public int groupSize() {
    return numHeads() / numKvHeads();
  }

  /** The config as it is written into a saved checkpoint: the original keys, dtype set to float32. */
  public ObjectNode toJson() {
    ObjectNode out = raw.deepCopy();
    out.put("torch_dtype", "float32");
    return out;
  }

  /**
   * A builder of a new config.json for a model rlsr creates (tests, the demo's base model). The sizes (vocab, hidden,
   * intermediate, layers, heads) must be set ({@link #fromJson} refuses values that are not positive); the rest default as Hugging Face does: kvHeads = heads, head_dim =
   * hidden / heads (key not written), untied, rope_theta 10000, max_position_embeddings 2048, and no
   * bos_token_id / eos_token_id keys.
   */
  public static Builder builder(String modelType) {
    return new Builder(modelType);
  }

  /** Named settings of a created config; {@link #build()} writes the config.json and reads it with {@link #fromJson}. */
  public static final class Builder {
    private static final String SOURCE = "<created config>";
    private final String modelType;
    private Integer vocabSize;
    private Integer hiddenSize;
    private Integer intermediateSize;
    private Integer layers;
    private Integer heads;
    private Integer kvHeads;
    private Integer headDim;
    private boolean tied = false;
    private double ropeTheta = 10000.0;
    private int maxPositions = 2048;
    private Integer bosId;
    private Integer eosId;
    private final ObjectNode extra = Json.MAPPER.createObjectNode();

    private Builder(String modelType) {
      this.modelType = modelType;
    }

    /** {@code vocab_size} (required). */
    public Builder vocabSize(int vocabSize) {
      this.vocabSize = vocabSize;
      return this;
    }

    /** {@code hidden_size} (required). */
    public Builder hiddenSize(int hiddenSize) {
      this.hiddenSize = hiddenSize;
      return this;
    }

    /** {@code intermediate_size} (required). */
    public Builder intermediateSize(int intermediateSize) {
      this.intermediateSize = intermediateSize;
      return this;
    }

    /** {@code num_hidden_layers} (required). */
    public Builder layers(int layers) {
      this.layers = layers;
      return this;
    }

    /** {@code num_attention_heads} (required). */
    public Builder heads(int heads) {
      this.heads = heads;
      return this;
    }

    /** {@code num_key_value_heads}; default: {@link #heads}. */
    public Builder kvHeads(int kvHeads) {
      this.kvHeads = kvHeads;
      return this;
    }

    /** {@code head_dim}; null (the default) writes no key, so it is hidden / heads. */
    public Builder headDim(Integer headDim) {
      this.headDim = headDim;
      return this;
    }

    /** {@code tie_word_embeddings}; default false. */
    public Builder tied(boolean tied) {
      this.tied = tied;
      return this;
    }

    /** {@code rope_theta}; default 10000. */
    public Builder ropeTheta(double ropeTheta) {
      this.ropeTheta = ropeTheta;
      return this;
    }

    /** {@code max_position_embeddings}; default 2048. */
    public Builder maxPositions(int maxPositions) {
      this.maxPositions = maxPositions;
      return this;
    }

    /** {@code bos_token_id}; default: no key (bosTokenId -1). */
    public Builder bosId(int bosId) {
      this.bosId = bosId;
      return this;
    }

    /** {@code eos_token_id}; default: no key (no EOS ids). */
    public Builder eosId(int eosId) {
      this.eosId = eosId;
      return this;
    }

    /**
     * Any further config.json key ({@code rope_scaling}, {@code sliding_window}, ...), written last, so it replaces
     * a key the builder or the family writes.
     */
    public Builder key(String key, com.fasterxml.jackson.databind.JsonNode value) {
      extra.set(key, value.deepCopy());
      return this;
    }

    public ModelConfig build() {
      ModelFamily family = ModelFamilies.forType(modelType, SOURCE);
      requireSet(vocabSize, "vocabSize");
      requireSet(hiddenSize, "hiddenSize");
      requireSet(intermediateSize, "intermediateSize");
      requireSet(layers, "layers");
      requireSet(heads, "heads");
      ObjectNode c = Json.MAPPER.createObjectNode();
      c.put("model_type", modelType);
      c.putArray("architectures").add(family.architectureClass());
      c.put("vocab_size", vocabSize);
      c.put("hidden_size", hiddenSize);
      c.put("intermediate_size", intermediateSize);
      c.put("num_hidden_layers", layers);
      c.put("num_attention_heads", heads);
      c.put("num_key_value_heads", kvHeads != null ? kvHeads : heads);
      if (headDim != null) {
        c.put("head_dim", headDim);
      }
      c.put("hidden_act", "silu");
      c.put("rope_theta", ropeTheta);
      c.put("rms_norm_eps", 1e-6);
      c.put("tie_word_embeddings", tied);
      c.put("max_position_embeddings", maxPositions);
      if (bosId != null) {
        c.put("bos_token_id", bosId);
      }
      if (eosId != null) {
        c.put("eos_token_id", eosId);
      }
      c.put("torch_dtype", "float32");
      family.addCreatedKeys(c);
      c.setAll(extra);
      return fromJson(c, SOURCE);
    }

    private static void requireSet(Integer value, String name) {
      if (value == null) {
        throw new IllegalStateException(SOURCE + ": " + name + " is not set");
      }
    }
  }
}
