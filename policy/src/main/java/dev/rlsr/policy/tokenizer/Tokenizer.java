// The model's tokenizer: a DJL HuggingFaceTokenizer over tokenizer.json (no special tokens added, no truncation,
// no padding) plus the special tokens and chat template from tokenizer_config.json and generation_config.json.
package dev.rlsr.policy.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Loaded with {@link #load}; close it to free the native tokenizer. */
public final class Tokenizer implements AutoCloseable {
  public static final String TOKENIZER_JSON = "tokenizer.json";
  public static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";
  public static final String SPECIAL_TOKENS_MAP_JSON = "special_tokens_map.json";
  public static final String GENERATION_CONFIG_JSON = "generation_config.json";
  /** Newer transformers versions store the chat template in this file instead of tokenizer_config.json. */
  public static final String CHAT_TEMPLATE_JINJA = "chat_template.jinja";

  private final Path modelDir;
  private final HuggingFaceTokenizer hf;
  private final Map<String, Integer> ids;
  private final int vocabSize;
  private final int[] eosIds;
  private final int bosId;
  private final int padId;
  private final String bosToken;
  private final String eosToken;
  private final String chatTemplate;
  private final boolean addBosToPrompt;

  /**
   * The special tokens {@link #load} resolved (see there for the rules).
   *
   * @param eosIds         ids that end a generation, the first the one SFT appends
   * @param bosId          BOS id or -1
   * @param padId          pad id
   * @param bosToken       BOS token text or null
   * @param eosToken       EOS token text or null
   * @param addBosToPrompt whether prompts start with BOS
   */
  private record SpecialTokens(int[] eosIds, int bosId, int padId, String bosToken, String eosToken,
      boolean addBosToPrompt) {}

  private Tokenizer(Path modelDir, HuggingFaceTokenizer hf, Map<String, Integer> ids, int vocabSize,
      SpecialTokens special, String chatTemplate) {
    this.modelDir = modelDir;
    this.hf = hf;
    this.ids = ids;
    this.vocabSize = vocabSize;
    this.eosIds = special.eosIds();
    this.bosId = special.bosId();
    this.padId = special.padId();
    this.bosToken = special.bosToken();
    this.eosToken = special.eosToken();
    this.chatTemplate = chatTemplate;
    this.addBosToPrompt = special.addBosToPrompt();
  }

  /**
   * Loads the tokenizer of a Hugging Face model directory. {@code tokenizer.json} is required;
   * {@code tokenizer_config.json}, {@code chat_template.jinja}, {@code generation_config.json} and
   * {@code config.json} are read when present, for special tokens and the chat template:
   * <ul>
   *   <li>EOS ids: the union of tokenizer_config.json's {@code eos_token} (first, when it names a token) and
   *       generation_config.json's and config.json's {@code eos_token_id} (int or list), in that order.</li>
   *   <li>BOS: {@code bos_token} of tokenizer_config.json, else config.json's {@code bos_token_id}; -1 if none.</li>
   *   <li>Pad: {@code pad_token}, else the first EOS id.</li>
   *   <li>BOS before prompts: {@code add_bos_token} when tokenizer_config.json has it, otherwise true when
   *       tokenizer.json's post-processor is a template starting with the BOS token (Llama 3 style).</li>
   * </ul>
   */
  public static Tokenizer load(Path modelDir) {
    Path tokJson = modelDir.resolve(TOKENIZER_JSON);
    if (!Files.isRegularFile(tokJson)) {
      throw new RlsrException(tokJson + ": not found (the model directory needs the Hugging Face tokenizer.json"
          + " of its tokenizer; slow-tokenizer files such as tokenizer.model are not supported)");
    }
    JsonNode tok = readJson(tokJson);
    Map<String, Integer> ids = new HashMap<>();
    JsonNode vocab = tok.path("model").path("vocab");
    if (vocab.isObject()) {
      vocab.fields().forEachRemaining(e -> ids.put(e.getKey(), e.getValue().asInt()));
    } else if (vocab.isArray()) { // Unigram: [[piece, score], ...], id = index
      for (int i = 0; i < vocab.size(); i++) {
        ids.put(vocab.get(i).path(0).asText(), i);
      }
    } else {
      throw new RlsrException(tokJson + ": missing key \"model.vocab\" (not a Hugging Face tokenizers file?)");
    }
    for (JsonNode t : tok.path("added_tokens")) {
      ids.put(t.path("content").asText(), t.path("id").asInt());
    }
    int vocabSize = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;

    Path tcFile = modelDir.resolve(TOKENIZER_CONFIG_JSON);
    ObjectNode tc = StrictJson.readObjectIfPresent(tcFile);
    StrictJson tcj = StrictJson.of(tc, tcFile.toString());
    Path genFile = modelDir.resolve(GENERATION_CONFIG_JSON);
    StrictJson gen = StrictJson.of(StrictJson.readObjectIfPresent(genFile), genFile.toString());
    Path cfgFile = modelDir.resolve("config.json");
    StrictJson cfg = StrictJson.of(StrictJson.readObjectIfPresent(cfgFile), cfgFile.toString());
    String bosToken = tokenText(tcj, "bos_token");
    String eosToken = tokenText(tcj, "eos_token");
    String padToken = tokenText(tcj, "pad_token");

    Set<Integer> eos = new LinkedHashSet<>();
    if (eosToken != null && ids.containsKey(eosToken)) {
      eos.add(ids.get(eosToken)); // first: the token that ends an assistant turn (e.g. <|im_end|>, <|eot_id|>)
    }
    eos.addAll(gen.optIntOrList("eos_token_id"));
    eos.addAll(cfg.optIntOrList("eos_token_id"));
    int[] eosIds = eos.stream().mapToInt(Integer::intValue).toArray();

    int bosId = -1;
    if (bosToken != null && ids.containsKey(bosToken)) {
      bosId = ids.get(bosToken);
    } else {
      bosId = cfg.optInt("bos_token_id", -1);
    }
    if (bosToken == null && bosId >= 0) {
      bosToken = tokenOf(ids, bosId);
    }
    if (eosToken == null && eosIds.length > 0) {
      eosToken = tokenOf(ids, eosIds[0]);
    }
    int padId = padToken != null && ids.containsKey(padToken) ? ids.get(padToken)
        : eosIds.length > 0 ? eosIds[0] : 0;

    boolean addBos;
    if (tcj.has("add_bos_token")) {
      addBos = tcj.optBool("add_bos_token", false);
    } else {
      JsonNode single = tok.path("post_processor").path("single");
      addBos = "TemplateProcessing".equals(tok.path("post_processor").path("type").asText())
          && single.isArray() && single.size() > 0 && bosToken != null
          && bosToken.equals(single.get(0).path("SpecialToken").path("id").asText(null));
    }
    addBos = addBos && bosId >= 0;

    String template = chatTemplate(tc, modelDir);

    HuggingFaceTokenizer hf;
    try (InputStream in = Files.newInputStream(tokJson)) {
      hf = HuggingFaceTokenizer.newInstance(in,
          Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
    } catch (IOException | RuntimeException e) {
      throw new RlsrException(tokJson + ": cannot be loaded by the Hugging Face tokenizers library: "
          + e.getMessage(), e);
    }
    return new Tokenizer(modelDir, hf, Map.copyOf(ids), vocabSize,
        new SpecialTokens(eosIds, bosId, padId, bosToken, eosToken, addBos), template);
  }

  private static String chatTemplate(JsonNode tc, Path modelDir) {
    JsonNode t = tc.get("chat_template");
    Path file = modelDir.resolve(TOKENIZER_CONFIG_JSON);
    if (t != null && t.isTextual()) {
      return t.asText();
    }
    if (t != null && t.isArray()) { // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
      for (JsonNode named : t) {
        if ("default".equals(named.path("name").asText())) {
          return named.path("template").asText();
        }
      }
      throw new RlsrException(file + ": chat_template is a list of named templates without one named \"default\"");
    }
    if (t != null && !t.isNull()) {
      throw new RlsrException(file + ": chat_template must be a string or a list of {name, template}, got " + t.getNodeType());
    }
    Path jinja = modelDir.resolve(CHAT_TEMPLATE_JINJA);
    if (Files.isRegularFile(jinja)) {
      try {
        return Files.readString(jinja, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new RlsrException(jinja + ": cannot read: " + e.getMessage(), e);
      }
    }
    return null;
  }

  /** A token in tokenizer_config.json is a string, an AddedToken object {"content": ...}, or null. */
  private static String tokenText(StrictJson tc, String key) {
    if (!tc.has(key)) {
      return null;
    }
    JsonNode n = tc.node().get(key);
    if (n.isTextual()) {
      return n.asText();
    }
    if (n.isObject() && n.path("content").isTextual()) {
      return n.get("content").asText();
    }
    throw new RlsrException(tc.source() + ": \"" + key + "\" must be a token string or {\"content\": \"...\"}, got "
        + StrictJson.kind(n));
  }

  private static String tokenOf(Map<String, Integer> ids, int id) {
    return ids.entrySet().stream().filter(e -> e.getValue() == id).map(Map.Entry::getKey).findFirst().orElse(null);
  }

  private static JsonNode readJson(Path file) {
    try {
      return Json.MAPPER.readTree(file.toFile());
    } catch (IOException e) {
      throw new RlsrException(file + ": not valid JSON: " + e.getMessage(), e);
    }
  }

  /** Token ids of a text, with no special tokens added (special-token strings in the text do map to their ids). */
  public int[] encode(String text) {
    long[] l = hf.encode(text, false, false).getIds();
    int[] out = new int[l.length];
    for (int i = 0; i < l.length; i++) {
      out[i] = (int) l[i];
    }
    return out;
  }

  /** Text of token ids, special tokens skipped. */
  public String decode(int[] tokenIds) {
    long[] l = new long[tokenIds.length];
    for (int i = 0; i < l.length; i++) {
      l[i] = tokenIds[i];
    }
    return hf.decode(l, true);
  }

  /** Highest id in tokenizer.json (model vocab and added tokens) + 1. */
  public int vocabSize() {
    return vocabSize;
  }

  /** Id of a token string as tokenizer.json spells it (byte-level symbols for BPE vocab entries), or -1. */
  public int tokenId(String token) {
    return ids.getOrDefault(token, -1);
  }

  /**
   * Ids that end a generation (see {@link #load} for the order); may be empty when the model directory names
   * none. The first is the one SFT appends to responses.
   */
  public int[] eosIds() {
    return eosIds.clone();
  }

  public boolean isEos(int id) {
    for (int e : eosIds) {
      if (e == id) {
        return true;
      }
    }
    return false;
  }

  /** BOS id or -1. */
  public int bosId() {
    return bosId;
  }

  /** Pad id: pad_token, else the first EOS id, else 0. Padded positions are always masked. */
  public int padId() {
    return padId;
  }

  /** BOS token text (template variable bos_token), or "" when there is none. */
  public String bosToken() {
    return bosToken == null ? "" : bosToken;
  }

  /** EOS token text (template variable eos_token), or "" when there is none. */
  public String eosToken() {
    return eosToken == null ? "" : eosToken;
  }

  public Optional<String> chatTemplate() {
    return Optional.ofNullable(chatTemplate);
  }

  /** True when prompts start with BOS (see {@link #load}); always false when there is no BOS token. */
  public boolean addBosToPrompt() {
    return addBosToPrompt;
  }

  /** The directory this tokenizer was loaded from. */
  public Path modelDir() {
    return modelDir;
  }

  /**
   * Refuses a tokenizer whose ids do not all fit the model's embedding matrix. A tokenizer smaller than
   * vocab_size is normal (Hugging Face pads embedding matrices to a multiple of 64 or 128).
   */
  public void validateAgainst(ModelConfig c, Path dir) {
    if (vocabSize > c.vocabSize()) {
      throw new RlsrException(dir.resolve(TOKENIZER_JSON) + ": the tokenizer has ids up to " + (vocabSize - 1)
          + " but " + dir.resolve("config.json") + " has vocab_size " + c.vocabSize()
          + "; tokenizer and weights belong to different models");
    }
    for (int e : eosIds) {
      if (e < 0 || e >= c.vocabSize()) {
        throw new RlsrException(dir + ": eos_token_id " + e + " is outside config.json's vocab_size " + c.vocabSize());
      }
    }
  }

  /** Copies tokenizer.json and, when present, tokenizer_config.json, special_tokens_map.json and chat_template.jinja. */
  public void copyFilesTo(Path outDir) {
    try {
      Files.createDirectories(outDir);
      for (String name : List.of(TOKENIZER_JSON, TOKENIZER_CONFIG_JSON, SPECIAL_TOKENS_MAP_JSON, CHAT_TEMPLATE_JINJA)) {
        Path src = modelDir.resolve(name);
        if (Files.isRegularFile(src)) {
          Files.copy(src, outDir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new RlsrException(outDir + ": cannot copy tokenizer files: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    hf.close();
  }
}
