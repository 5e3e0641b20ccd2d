// One choice's text as its tokens arrive: decoded incrementally, cut at the first stop string, and released in
// pieces that can no longer change (streaming never sends text that a later token would take back).
package dev.rlsr.serve;

import dev.rlsr.policy.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * The text is the tokenizer's decoding of all tokens so far (special tokens skipped, so EOS adds nothing). What
 * {@link #add} hands out is the text minus a tail that might still change: an unfinished UTF-8 character (decoded
 * as U+FFFD until its last byte arrives) and, when there are stop strings, the last (longest stop - 1) characters,
 * which could be the start of one. A stop string ends the text just before it, as OpenAI's {@code stop} does.
 */
final class TextStream {
  private final Tokenizer tokenizer;
  private final List<String> stops;
  private final int hold;
  private int[] tokens = new int[16];
  private int count;
  private String text = "";
  private int released;
  private boolean stopped;
  private final boolean incremental;
  private boolean decoded = true; // text is the decoding of every token added

  /**
   * @param incremental decode at every token (streaming, or stop strings to look for); otherwise the tokens are only
   *                    collected and decoded once, when {@link #rest} or {@link #text} is asked for, which keeps the
   *                    tokenizer off the decoding thread's per-token path
   */
  TextStream(Tokenizer tokenizer, List<String> stops, boolean incremental) {
    this.tokenizer = tokenizer;
    this.stops = stops;
    this.hold = stops.stream().mapToInt(String::length).max().orElse(1) - 1;
    this.incremental = incremental || !stops.isEmpty();
  }

  /** Adds a token and returns the text that is now final and not yet handed out ("" when none). */
  String add(int token) {
    if (stopped) {
      return "";
    }
    if (count == tokens.length) {
      tokens = Arrays.copyOf(tokens, count * 2);
    }
    tokens[count++] = token;
    decoded = false;
    if (!incremental) {
      return "";
    }
    decode();
    int cut = -1;
    for (String s : stops) {
      int at = text.indexOf(s, Math.max(0, released - s.length() + 1));
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
      }
    }
    if (cut >= 0) {
      text = text.substring(0, Math.max(cut, released));
      stopped = true;
      return rest();
    }
    int safe = text.length() - hold;
    while (safe > released && text.charAt(safe - 1) == '\uFFFD') {
      safe--;
    }
    return take(safe);
  }

  /** Whether a stop string ended the text. */
  boolean stopped() {
    return stopped;
  }

  /** Tokens taken so far (the stop string's tokens included: they were generated). */
  int tokens() {
    return count;
  }

  /** Everything not yet handed out: the end of the choice. */
  String rest() {
    decode();
    return take(text.length());
  }

  /** The whole text. */
  String text() {
    decode();
    return text;
  }

  private void decode() {
    if (!decoded) {
      text = tokenizer.decode(Arrays.copyOf(tokens, count));
      decoded = true;
    }
  }

  private String take(int upTo) {
    if (upTo <= released) {
      return "";
    }
    String piece = text.substring(released, upTo);
    released = upTo;
    return piece;
  }
}
