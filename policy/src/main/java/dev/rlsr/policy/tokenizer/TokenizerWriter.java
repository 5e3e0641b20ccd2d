// Writes a Hugging Face tokenizer.json for a byte-level BPE tokenizer (GPT-2 style) plus tokenizer_config.json.
// Tests use it to build tiny models; the demo uses it with merges learned by trainMerges.
package dev.rlsr.policy.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A byte-level BPE tokenizer description. Ids: the 256 byte symbols first (id = byte value), then one id per
 * distinct merge result in merge order, then the special tokens in the order given. Text is split by the
 * ByteLevel pre-tokenizer (GPT-2's regex, {@code add_prefix_space=false}) and decoded by the ByteLevel decoder,
 * so every UTF-8 string round-trips.
 */
public final class TokenizerWriter {
  /** GPT-2's pre-tokenization regex (contractions, letters, digits, other symbols, whitespace runs). */
  public static final Pattern GPT2_SPLIT = Pattern.compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

  private static final String[] BYTE_TO_UNICODE = buildByteToUnicode();

  private List<String[]> merges = List.of();
  private List<String> specialTokens = List.of();
  private String chatTemplate;
  private String bosToken;
  private String eosToken;
  private String padToken;
  private boolean addBosToken;
  private int modelMaxLength = 2048;

  /** A writer with no merges (pure byte tokens), no special tokens and no chat template. */
  public TokenizerWriter() {}

  /** Merge rules, each a pair of existing symbols, applied in list order (earlier = higher priority). */
  public TokenizerWriter merges(List<String[]> merges) {
    this.merges = List.copyOf(merges);
    return this;
  }

  /** Special (added) tokens such as {@code <|endoftext|>}; never split, skipped when decoding. */
  public TokenizerWriter specialTokens(List<String> tokens) {
    this.specialTokens = List.copyOf(tokens);
    return this;
  }

  /** Jinja chat template written into tokenizer_config.json; null (default) for none. */
  public TokenizerWriter chatTemplate(String template) {
    this.chatTemplate = template;
    return this;
  }

  /** bos_token / eos_token / pad_token of tokenizer_config.json; each must be one of the special tokens or null. */
  public TokenizerWriter specials(String bos, String eos, String pad) {
    this.bosToken = bos;
    this.eosToken = eos;
    this.padToken = pad;
    return this;
  }

  /** add_bos_token in tokenizer_config.json (Llama style: BOS before every prompt); default false. */
  public TokenizerWriter addBosToken(boolean add) {
    this.addBosToken = add;
    return this;
  }

  /** model_max_length in tokenizer_config.json; default 2048. */
  public TokenizerWriter modelMaxLength(int n) {
    this.modelMaxLength = n;
    return this;
  }

  /** The printable symbol GPT-2's bytes_to_unicode assigns to a byte value 0..255. */
  public static String byteSymbol(int b) {
    return BYTE_TO_UNICODE[b];
  }

  /** A string as the concatenation of its UTF-8 bytes' symbols (how byte-level BPE sees text). */
  public static String toByteSymbols(String text) {
    StringBuilder sb = new StringBuilder();
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      sb.append(BYTE_TO_UNICODE[b & 0xff]);
    }
    return sb.toString();
  }

  /** The vocabulary (symbol to id) of the BPE model, without the special tokens. */
  public LinkedHashMap<String, Integer> vocab() {
    LinkedHashMap<String, Integer> v = new LinkedHashMap<>();
    for (int b = 0; b < 256; b++) {
      v.put(BYTE_TO_UNICODE[b], b);
    }
    for (String[] m : merges) {
      if (!v.containsKey(m[0]) || !v.containsKey(m[1])) {
        throw new IllegalArgumentException("merge \"" + m[0] + " " + m[1] + "\" uses a symbol that no earlier rule makes");
      }
      v.putIfAbsent(m[0] + m[1], v.size());
    }
    return v;
  }

  /** Id of a special token, or -1. */
  public int specialId(String token) {
    int i = specialTokens.indexOf(token);
    return i < 0 ? -1 : vocab().size() + i;
  }

  /** Number of ids: bytes + distinct merge results + special tokens. */
  public int vocabSize() {
    return vocab().size() + specialTokens.size();
  }

  /** The tokenizer.json document. */
  public ObjectNode tokenizerJson() {
    LinkedHashMap<String, Integer> vocab = vocab();
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int i = 0; i < specialTokens.size(); i++) {
      ObjectNode t = added.addObject();
      t.put("id", vocab.size() + i);
      t.put("content", specialTokens.get(i));
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", false);
      t.put("special", true);
    }
    root.putNull("normalizer");
    root.set("pre_tokenizer", byteLevel(false, true));
    root.set("post_processor", byteLevel(false, false));
    root.set("decoder", byteLevel(true, true));
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    ObjectNode v = model.putObject("vocab");
    vocab.forEach(v::put);
    ArrayNode m = model.putArray("merges");
    for (String[] pair : merges) {
      m.add(pair[0] + " " + pair[1]);
    }
    return root;
  }

  private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("type", "ByteLevel");
    n.put("add_prefix_space", addPrefixSpace);
    n.put("trim_offsets", trimOffsets);
    n.put("use_regex", true);
    return n;
  }

  /** The tokenizer_config.json document. */
  public ObjectNode tokenizerConfigJson() {
    ObjectNode c = Json.MAPPER.createObjectNode();
    c.put("tokenizer_class", "PreTrainedTokenizerFast");
    c.put("add_bos_token", addBosToken);
    c.put("add_eos_token", false);
    c.put("clean_up_tokenization_spaces", false);
    c.put("model_max_length", modelMaxLength);
    putToken(c, "bos_token", bosToken);
    putToken(c, "eos_token", eosToken);
    putToken(c, "pad_token", padToken);
    if (chatTemplate != null) {
      c.put("chat_template", chatTemplate);
    }
    return c;
  }

  private void putToken(ObjectNode c, String key, String token) {
    if (token == null) {
      c.putNull(key);
      return;
    }
    if (!specialTokens.contains(token)) {
      throw new IllegalArgumentException(key + " \"" + token + "\" is not one of the special tokens " + specialTokens);
    }
    c.put(key, token);
  }

  /** Writes {@code dir/tokenizer.json} and {@code dir/tokenizer_config.json} (creating dir). */
  public void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Json.PRETTY.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizerJson());
    Json.PRETTY.writeValue(dir.resolve("tokenizer_config.json").toFile(), tokenizerConfigJson());
  }

  /**
   * Learns byte-level BPE merges from a corpus. Each text is split with {@link #GPT2_SPLIT} (a word keeps its
   * leading space), words are counted, and each step merges the most frequent adjacent symbol pair over all
   * words (weighted by word count); ties go to the lexicographically smallest pair, so the result is
   * deterministic. Stops after {@code numMerges} merges or when no pair occurs at least twice.
   */
  public static List<String[]> trainMerges(List<String> corpus, int numMerges) {
    Map<String, Integer> wordCounts = new TreeMap<>();
    for (String text : corpus) {
      Matcher m = GPT2_SPLIT.matcher(text);
      while (m.find()) {
        wordCounts.merge(toByteSymbols(m.group()), 1, Integer::sum);
      }
    }
    List<List<String>> words = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    for (var e : wordCounts.entrySet()) {
      List<String> syms = new ArrayList<>();
      e.getKey().codePoints().forEach(cp -> syms.add(new String(Character.toChars(cp))));
      words.add(syms);
      counts.add(e.getValue());
    }
    List<String[]> merges = new ArrayList<>();
    while (merges.size() < numMerges) {
      Map<Pair, Integer> pairCounts = new HashMap<>();
      for (int w = 0; w < words.size(); w++) {
        List<String> s = words.get(w);
        for (int i = 0; i + 1 < s.size(); i++) {
          pairCounts.merge(new Pair(s.get(i), s.get(i + 1)), counts.get(w), Integer::sum);
        }
      }
      Pair best = null;
      int bestCount = 1;
      for (var e : pairCounts.entrySet()) {
        int c = e.getValue();
        if (c > bestCount || (c == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
          best = e.getKey();
          bestCount = c;
        }
      }
      if (best == null) {
        break;
      }
      merges.add(new String[] {best.a, best.b});
      String joined = best.a + best.b;
      for (List<String> s : words) {
        for (int i = 0; i + 1 < s.size(); i++) {
          if (s.get(i).equals(best.a) && s.get(i + 1).equals(best.b)) {
            s.set(i, joined);
            s.remove(i + 1);
          }
        }
      }
    }
    return merges;
  }

  private record Pair(String a, String b) implements Comparable<Pair> {
    Pair {
      Objects.requireNonNull(a);
      Objects.requireNonNull(b);
    }

    @Override
    public int compareTo(Pair o) {
      int c = a.compareTo(o.a);
      return c != 0 ? c : b.compareTo(o.b);
    }
  }

  /** GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to code points from 256 up. */
  private static String[] buildByteToUnicode() {
    String[] table = new String[256];
    int next = 256;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      table[b] = new String(Character.toChars(printable ? b : next++));
    }
    return table;
  }
}
