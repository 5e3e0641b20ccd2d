// Test fixture: writes tiny random Hugging Face model directories (config, safetensors, tokenizer files) so
// tests in every module can load a real checkpoint without downloading anything.
package dev.rlsr.policy.testing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.tokenizer.TokenizerWriter;
import dev.rlsr.policy.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tiny models share one byte-level tokenizer: ids 0..255 are the bytes, then {@link #SPECIAL_TOKENS} (256..260).
 * Configs use vocab_size {@link #VOCAB} (larger than the tokenizer, as HF pads embeddings). The qwen2 flavour
 * has a ChatML chat template and EOS {@code <|im_end|>}; the llama flavour has no template (plain prompts), BOS
 * {@code <s>} added to prompts and EOS {@code </s>}.
 */
public final class TinyCheckpoints {
  public static final List<String> SPECIAL_TOKENS =
      List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>");
  public static final int ENDOFTEXT = 256;
  public static final int IM_START = 257;
  public static final int IM_END = 258;
  public static final int BOS = 259;
  public static final int EOS = 260;
  /** Tokenizer size: 256 bytes + 5 specials. */
  public static final int TOKENIZER_VOCAB = 261;
  /** vocab_size of the tiny configs. */
  public static final int VOCAB = 272;

  /** A Qwen-style ChatML template (system message optional, generation cue when add_generation_prompt). */
  public static final String CHATML_TEMPLATE =
      "{% for message in messages %}"
          + "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
          + "{% endfor %}"
          + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  private TinyCheckpoints() {}

  /** Tiny Llama: hidden 32, 2 layers, 4 heads, 2 kv heads, intermediate 64, untied, BOS 259, EOS 260. */
  public static ModelConfig llama() {
    return llama(false);
  }

  public static ModelConfig llama(boolean tied) {
    return ModelConfig.builder("llama").vocabSize(VOCAB).hiddenSize(32).intermediateSize(64).layers(2).heads(4)
        .kvHeads(2).tied(tied).ropeTheta(10000.0).maxPositions(128).bosId(BOS).eosId(EOS).build();
  }

  /** Tiny Qwen2 (q/k/v biases): hidden 32, 2 layers, 4 heads, 2 kv heads, intermediate 64, tied, EOS 258. */
  public static ModelConfig qwen2() {
    return qwen2(true);
  }

  public static ModelConfig qwen2(boolean tied) {
    return ModelConfig.builder("qwen2").vocabSize(VOCAB).hiddenSize(32).intermediateSize(64).layers(2).heads(4)
        .kvHeads(2).tied(tied).ropeTheta(1000000.0).maxPositions(128).bosId(ENDOFTEXT).eosId(IM_END).build();
  }

  public static String torchDtype(Safetensors.DType dtype) {
    return switch (dtype) {
      case F32 -> "float32";
      case BF16 -> "bfloat16";
      case F16 -> "float16";
    };
  }

  /** Writes config.json, model.safetensors, tokenizer files and generation_config.json into dir; returns dir. */
  public static Path write(Path dir, ModelConfig config, Safetensors.DType dtype, long seed) {
    return write(dir, config, dtype, seed, false);
  }

  /** Like {@link #write} but with the weights in two shards and a model.safetensors.index.json. */
  public static Path writeSharded(Path dir, ModelConfig config, Safetensors.DType dtype, long seed) {
    return write(dir, config, dtype, seed, true);
  }

  private static Path write(Path dir, ModelConfig config, Safetensors.DType dtype, long seed, boolean sharded) {
    try {
      Files.createDirectories(dir);
      ObjectNode cfg = config.toJson();
      cfg.put("torch_dtype", torchDtype(dtype));
      Json.PRETTY.writeValue(dir.resolve("config.json").toFile(), cfg);
      LinkedHashMap<String, FloatTensor> tensors = ModelWeights.random(config, seed).tensors();
      Map<String, String> meta = Map.of("format", "pt");
      if (sharded) {
        writeShards(dir, tensors, dtype, meta);
      } else {
        Safetensors.write(dir.resolve(Safetensors.SINGLE_FILE), tensors, dtype, meta);
      }
      writeTokenizer(dir, config.modelType().equals("qwen2"));
      ObjectNode gen = Json.MAPPER.createObjectNode();
      if (config.bosTokenId() >= 0) {
        gen.put("bos_token_id", config.bosTokenId());
      }
      var eos = gen.putArray("eos_token_id");
      config.eosTokenIds().forEach(eos::add);
      if (config.modelType().equals("qwen2")) {
        eos.add(ENDOFTEXT);
      }
      Json.PRETTY.writeValue(dir.resolve("generation_config.json").toFile(), gen);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the tiny tokenizer: ChatML flavour (Qwen) or plain flavour with BOS (Llama). */
  public static void writeTokenizer(Path dir, boolean chatml) throws IOException {
    TokenizerWriter w = new TokenizerWriter().specialTokens(SPECIAL_TOKENS);
    if (chatml) {
      w.specials(null, "<|im_end|>", "<|endoftext|>").chatTemplate(CHATML_TEMPLATE);
    } else {
      w.specials("<s>", "</s>", null).addBosToken(true);
    }
    w.write(dir);
  }

  private static void writeShards(Path dir, LinkedHashMap<String, FloatTensor> tensors, Safetensors.DType dtype,
      Map<String, String> meta) throws IOException {
    List<String> names = new ArrayList<>(tensors.keySet());
    int half = names.size() / 2;
    String[] files = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
    ObjectNode index = Json.MAPPER.createObjectNode();
    ObjectNode weightMap = Json.MAPPER.createObjectNode();
    long total = 0;
    for (int s = 0; s < 2; s++) {
      LinkedHashMap<String, FloatTensor> part = new LinkedHashMap<>();
      for (String n : s == 0 ? names.subList(0, half) : names.subList(half, names.size())) {
        part.put(n, tensors.get(n));
        weightMap.put(n, files[s]);
        total += (long) tensors.get(n).data().length * dtype.bytes;
      }
      Safetensors.write(dir.resolve(files[s]), part, dtype, meta);
    }
    index.putObject("metadata").put("total_size", total);
    index.set("weight_map", weightMap);
    Json.PRETTY.writeValue(dir.resolve(Safetensors.INDEX_FILE).toFile(), index);
  }
}
