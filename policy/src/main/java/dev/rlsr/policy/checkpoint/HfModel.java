// A Hugging Face model directory: config.json, model.safetensors (or shards), tokenizer files, generation_config.json.
// Loading validates everything up front; saving writes files the way Hugging Face tools expect them.
package dev.rlsr.policy.checkpoint;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

public record HfModel(Path dir, ModelConfig config, ModelWeights weights, Tokenizer tokenizer) implements AutoCloseable {
  public static final String CONFIG = "config.json";
  public static final String GENERATION_CONFIG = "generation_config.json";

  /** Loads and validates a model directory; every refusal names the file and key. */
  public static HfModel load(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new RlsrException(dir + ": model directory not found");
    }
    ModelConfig config = ModelConfig.read(dir.resolve(CONFIG));
    Tokenizer tok = Tokenizer.load(dir);
    tok.validateAgainst(config, dir);
    String source = Files.isRegularFile(dir.resolve(Safetensors.SINGLE_FILE))
        ? dir.resolve(Safetensors.SINGLE_FILE).toString() : dir.resolve(Safetensors.INDEX_FILE).toString();
    ModelWeights weights = ModelWeights.fromLoaded(config, Safetensors.readModelDir(dir), source);
    return new HfModel(dir, config, weights, tok);
  }

  /**
   * Writes a Hugging Face model directory: config.json, model.safetensors (fp32, HF names), the tokenizer files of
   * {@code tokenizerFrom}, generation_config.json. config.json is written last, so a directory cut short by a
   * crash is not mistaken for a model; still not atomic by itself: callers write into a fresh directory and move
   * it into place (see {@link Checkpoints}).
   *
   * @param metadata string metadata stored in the safetensors header (e.g. the resolved run config)
   */
  public static void save(Path dir, ModelWeights weights, Tokenizer tokenizerFrom, Map<String, String> metadata)
      throws IOException {
    Files.createDirectories(dir);
    java.util.LinkedHashMap<String, String> md = new java.util.LinkedHashMap<>();
    md.put("format", "pt"); // what transformers expects in safetensors metadata
    if (metadata != null) {
      md.putAll(metadata);
    }
    Safetensors.write(dir.resolve(Safetensors.SINGLE_FILE), weights.tensors(), Safetensors.DType.F32, md);
    tokenizerFrom.copyFilesTo(dir);
    Json.PRETTY.writeValue(dir.resolve(GENERATION_CONFIG).toFile(), generationConfig(weights.config(), tokenizerFrom));
    Json.PRETTY.writeValue(dir.resolve(CONFIG).toFile(), weights.config().toJson());
  }

  /** generation_config.json: the source's when it has one, else built from config and tokenizer ids. */
  public static ObjectNode generationConfig(ModelConfig c, Tokenizer tok) throws IOException {
    Path src = tok.modelDir().resolve(GENERATION_CONFIG);
    if (Files.isRegularFile(src)) {
      return StrictJson.readObject(src); // copied as is; must be one JSON object
    }
    ObjectNode g = Json.MAPPER.createObjectNode();
    if (tok.bosId() >= 0) {
      g.put("bos_token_id", tok.bosId());
    }
    int[] eos = tok.eosIds();
    if (eos.length == 1) {
      g.put("eos_token_id", eos[0]);
    } else if (eos.length > 1) {
      var arr = g.putArray("eos_token_id");
      for (int e : eos) {
        arr.add(e);
      }
    }
    g.put("pad_token_id", tok.padId());
    g.put("transformers_version", "4.46.0");
    return g;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
