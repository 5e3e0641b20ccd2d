// The tokenizer side of an encoder: texts (with the encoder's prefix) to token ids, long ones cut into windows at word
// boundaries.
package dev.rlsr.embedder;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Tokenizes texts for one encoder and splits each into {@link Window}s of at most {@link #windowTokens()} text tokens,
 * each wrapped in the encoder's special tokens. Closing it frees the native tokenizer.
 */
final class WindowTokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final String prefix;
  private final int leadingSpecials;
  private final int trailingSpecials;
  private final int windowTokens;

  /** Opens the source's tokenizer without padding (rlsr pads per batch) or truncation (long texts go in windows). */
  static HuggingFaceTokenizer open(EncoderSource source) {
    try {
      return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(source.tokenizerJson()),
          Map.of("padding", "false", "truncation", "false"));
    } catch (IOException | RuntimeException e) {
      throw new EmbedderException("cannot load the tokenizer " + source.tokenizerOrigin() + ": " + e.getMessage()
          + "; it must be a Hugging Face fast tokenizer file (tokenizer.json)", e);
    }
  }

  /**
   * Wraps a tokenizer from {@link #open}; the caller still closes it if this throws.
   *
   * @throws EmbedderException when the source's sequence limit leaves no room besides the special tokens
   */
  WindowTokenizer(HuggingFaceTokenizer tokenizer, EncoderSource source) {
    this.tokenizer = tokenizer;
    this.prefix = source.prefix();
    // Where the special tokens sit: "a" encodes as e.g. [CLS] a [SEP].
    long[] special = tokenizer.encode("a").getSpecialTokenMask();
    int lead = 0;
    while (lead < special.length && special[lead] == 1) {
      lead++;
    }
    int trail = 0;
    while (trail < special.length - lead && special[special.length - 1 - trail] == 1) {
      trail++;
    }
    this.leadingSpecials = lead;
    this.trailingSpecials = trail;
    this.windowTokens = source.maxSequenceLength() - lead - trail;
    if (windowTokens < 1) {
      throw new EmbedderException("encoder " + source.name() + " allows " + source.maxSequenceLength()
          + " tokens, too few for its " + (lead + trail) + " special tokens");
    }
  }

  /** The prefix put before every text. */
  String prefix() {
    return prefix;
  }

  /** Most text tokens one window holds. */
  int windowTokens() {
    return windowTokens;
  }

  /** The encodings of the texts, each with the prefix before it. */
  private Encoding[] encode(List<String> texts) {
    List<String> inputs = new ArrayList<>(texts.size());
    for (String text : texts) {
      inputs.add(prefix + text);
    }
    return tokenizer.batchEncode(inputs);
  }

  /**
   * The windows of all texts, text by text and in text order within each.
   *
   * @throws IllegalArgumentException if a text is null
   */
  List<Window> windows(List<String> texts) {
    for (int i = 0; i < texts.size(); i++) {
      if (texts.get(i) == null) {
        throw new IllegalArgumentException("texts must not contain null (index " + i + ")");
      }
    }
    Encoding[] encodings = encode(texts);
    List<Window> windows = new ArrayList<>();
    for (int t = 0; t < encodings.length; t++) {
      split(t, encodings[t], windows);
    }
    return windows;
  }

  /** Text tokens of each text (its prefix included, special tokens not), before windowing. */
  int[] tokenCounts(List<String> texts) {
    Encoding[] encodings = encode(texts);
    int[] counts = new int[encodings.length];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = Math.max(0, encodings[i].getIds().length - leadingSpecials - trailingSpecials);
    }
    return counts;
  }

  /** "a" with its one text token replaced by {@code tokenId} (at least 0): a window to try the largest id on. */
  Window probe(long tokenId) {
    long[] ids = tokenizer.encode("a").getIds().clone();
    ids[leadingSpecials] = Math.max(0, tokenId);
    return new Window(0, ids, new long[ids.length], 1);
  }

  /**
   * Splits one encoding into windows of at most {@link #windowTokens} text tokens, ending at word boundaries.
   * Windows are added in text order.
   */
  private void split(int text, Encoding encoding, List<Window> out) {
    long[] ids = encoding.getIds();
    long[] types = encoding.getTypeIds();
    long[] words = encoding.getWordIds();
    int end = ids.length - trailingSpecials; // first trailing special token
    if (end <= leadingSpecials) { // nothing but special tokens: the encoder's output for them
      out.add(new Window(text, ids, types, 0));
      return;
    }
    for (int from = leadingSpecials; from < end; ) {
      int to = from + windowTokens;
      if (to >= end) {
        to = end;
      } else {
        int cut = to;
        while (cut > from && words[cut] >= 0 && words[cut] == words[cut - 1]) {
          cut--; // token `cut` continues the word of token `cut - 1`: move the boundary before that word
        }
        if (cut > from) {
          to = cut;
        }
      }
      int length = to - from;
      out.add(new Window(text, slice(ids, from, length, end), slice(types, from, length, end), length));
      from = to;
    }
  }

  /** The leading special tokens of {@code all}, then {@code all[from, from + length)}, then its trailing specials. */
  private long[] slice(long[] all, int from, int length, int end) {
    long[] out = new long[leadingSpecials + length + trailingSpecials];
    System.arraycopy(all, 0, out, 0, leadingSpecials);
    System.arraycopy(all, from, out, leadingSpecials, length);
    System.arraycopy(all, end, out, leadingSpecials + length, trailingSpecials);
    return out;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
