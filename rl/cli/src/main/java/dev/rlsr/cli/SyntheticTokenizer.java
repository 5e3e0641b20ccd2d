// A word-level Hugging Face tokenizer of any vocabulary size, for benchmarks on built-in random shapes: every id is a
// made-up word, so random completions decode to text the reward embedder scores as it would real text.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

final class SyntheticTokenizer {
  static final String EOS = "<|endoftext|>";
  private static final String[] SYLLABLES = {"ka", "lo", "mi", "ne", "ru", "ta", "so", "vi", "de", "po", "fa", "gu",
      "be", "ni", "zo", "ha", "je", "wu", "xi", "qe"};

  private SyntheticTokenizer() {}

  /** The word of id {@code id}: its digits in base 20 as syllables ("kalomi"), unique per id. */
  static String word(int id) {
    StringBuilder sb = new StringBuilder();
    int v = id;
    do {
      sb.append(SYLLABLES[v % SYLLABLES.length]);
      v /= SYLLABLES.length;
    } while (v > 0);
    return sb.toString();
  }

  /**
   * Writes tokenizer.json (WordLevel over whitespace-split words; ids 0 .. vocab-2 are words, vocab-1 is
   * {@link #EOS}) and tokenizer_config.json (EOS and pad = {@link #EOS}, no BOS, no chat template) into {@code dir}.
   */
  static void write(Path dir, int vocabSize) throws IOException {
    ObjectNode tok = Json.MAPPER.createObjectNode();
    tok.put("version", "1.0");
    tok.putNull("truncation");
    tok.putNull("padding");
    ObjectNode added = tok.putArray("added_tokens").addObject();
    added.put("id", vocabSize - 1).put("content", EOS).put("single_word", false).put("lstrip", false)
        .put("rstrip", false).put("normalized", false).put("special", true);
    tok.putNull("normalizer");
    tok.putObject("pre_tokenizer").put("type", "WhitespaceSplit");
    tok.putNull("post_processor");
    tok.putNull("decoder");
    ObjectNode model = tok.putObject("model");
    model.put("type", "WordLevel");
    ObjectNode vocab = model.putObject("vocab");
    for (int i = 0; i < vocabSize - 1; i++) {
      vocab.put(word(i), i);
    }
    vocab.put(EOS, vocabSize - 1);
    model.put("unk_token", word(0));
    Json.MAPPER.writeValue(dir.resolve("tokenizer.json").toFile(), tok);
    ObjectNode cfg = Json.MAPPER.createObjectNode();
    cfg.put("eos_token", EOS);
    cfg.put("pad_token", EOS);
    cfg.put("add_bos_token", false);
    cfg.put("model_max_length", 32768);
    Json.PRETTY.writeValue(dir.resolve("tokenizer_config.json").toFile(), cfg);
  }

  /** {@code n} random words of ids below {@code vocab - 1}, space-separated. */
  static String randomText(SplittableRandom rng, int n, int vocab) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(word(rng.nextInt(vocab - 1)));
    }
    return sb.toString();
  }
}
