// Decoder embedders (Qwen3-Embedding and the like): their sentence-transformers safetensors directory as the ONNX
// feature-extraction graph, built by the policy exporter's decoder layers without KV cache or LM head.
package dev.rlsr.export;

import dev.rlsr.embedder.DecoderGraphs;
import dev.rlsr.embedder.EmbedderException;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.checkpoint.SafetensorsSource;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link DecoderGraphs} of rlsr (registered in {@code META-INF/services}): reads {@code config.json} with the
 * policy's {@link ModelConfig} (the family code decides q/k/v biases, q/k norms, rope scaling), opens the safetensors
 * weights and writes {@link OnnxPolicyExporter#writeEncoder}'s graph.
 *
 * <p>Weight names: sentence-transformers saves the base model ({@code embed_tokens.weight}, {@code layers.N....},
 * {@code norm.weight}); a causal-LM checkpoint has them under {@code model.} and an {@code lm_head.weight}, which is
 * ignored (the graph has no head, so {@code tie_word_embeddings} does not matter). Both load.
 */
public final class DecoderEncoderGraphs implements DecoderGraphs {
  /**
   * The {@code model_type}s an embedder may be: the one place to add a decoder family (its policy family must exist,
   * see {@link dev.rlsr.policy.model.family.ModelFamilies}).
   */
  public static final List<String> ENCODER_TYPES = List.of("qwen3", "qwen2");

  @Override
  public void writeOnnx(Path dir, Path modelOnnx) {
    Path configFile = dir.resolve("config.json");
    ModelConfig config;
    try {
      ModelConfig read = ModelConfig.read(configFile);
      // no head: a tied layout is the one without lm_head.weight
      config = new ModelConfig(read.modelType(), read.sizes(), read.attention(), read.rmsNormEps(), true,
          read.architecture(), read.tokenIds(), read.raw());
    } catch (RlsrException e) {
      throw new EmbedderException("embedder directory " + dir + ": " + e.getMessage()
          + "; a decoder embedder must be a model_type of " + ENCODER_TYPES, e);
    }
    if (!ENCODER_TYPES.contains(config.modelType())) {
      throw new EmbedderException(configFile + ": model_type \"" + config.modelType() + "\" is not a decoder embedder "
          + "rlsr builds (supported: " + String.join(", ", ENCODER_TYPES) + "); export it to onnx/model.onnx instead");
    }
    if (!Files.isRegularFile(dir.resolve(Safetensors.SINGLE_FILE))
        && !Files.isRegularFile(dir.resolve(Safetensors.INDEX_FILE))) {
      throw new EmbedderException("embedder directory " + dir + " has config.json (model_type " + config.modelType()
          + ") but neither " + Safetensors.SINGLE_FILE + " nor " + Safetensors.INDEX_FILE + " nor onnx/model.onnx; "
          + "copy the model's weights there");
    }
    try (SafetensorsSource file = SafetensorsSource.openModelDir(dir)) {
      OnnxPolicyExporter.writeEncoder(config, renamed(config, file, dir), modelOnnx);
    } catch (RlsrException e) {
      throw new EmbedderException("embedder directory " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The weights under the graph's (causal-LM) names, read from base-model or causal-LM names; shapes checked. */
  static TensorSource renamed(ModelConfig config, TensorSource file, Path dir) {
    LinkedHashMap<String, long[]> have = file.shapes();
    LinkedHashMap<String, long[]> layout = ModelWeights.layout(config);
    String prefix = have.containsKey("model.embed_tokens.weight") ? "" : "model.";
    Map<String, String> sourceName = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : layout.entrySet()) {
      String name = prefix.isEmpty() ? e.getKey() : e.getKey().substring(prefix.length());
      long[] shape = have.get(name);
      if (shape == null) {
        throw new EmbedderException("embedder directory " + dir + ": the safetensors weights lack tensor \"" + name
            + "\" that config.json implies (a " + config.modelType() + " model with " + config.numLayers()
            + " layers; names as sentence-transformers saves them, or under model. as a causal LM)");
      }
      if (!Arrays.equals(shape, e.getValue())) {
        throw new EmbedderException("embedder directory " + dir + ": tensor \"" + name + "\" has shape "
            + Arrays.toString(shape) + ", config.json implies " + Arrays.toString(e.getValue()));
      }
      sourceName.put(e.getKey(), name);
    }
    return TensorSource.renamed(file, layout, sourceName);
  }
}
