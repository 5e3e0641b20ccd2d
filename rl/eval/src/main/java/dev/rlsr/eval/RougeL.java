// ROUGE-L between a reference and a candidate text: the F-measure of their longest common subsequence of
// lowercase word tokens, tokenized like the rouge-score package's default tokenizer (no stemming).
package dev.rlsr.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Tokenization: lowercase, every run of characters outside {@code [a-z0-9]} is a separator (so punctuation and
 * non-ASCII letters are dropped), empty tokens removed: the behaviour of rouge-score's
 * {@code tokenize.tokenize(text, stemmer=None)}. Scores, with {@code lcs} the length of the longest common
 * subsequence of the two token lists: precision = lcs / |candidate|, recall = lcs / |reference|,
 * F = 2PR / (P + R); all three are 0 when either text has no tokens or nothing is shared.
 */
public final class RougeL {
  /** Precision, recall and F-measure, each in [0, 1]. */
  public record Score(double precision, double recall, double f) {}

  private RougeL() {}

  public static List<String> tokenize(String text) {
    List<String> out = new ArrayList<>();
    for (String t : text.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")) {
      if (!t.isEmpty()) {
        out.add(t);
      }
    }
    return out;
  }

  /** Length of the longest common subsequence (O(|a|·|b|) time, O(|b|) memory). */
  public static int lcs(List<String> a, List<String> b) {
    int[] prev = new int[b.size() + 1];
    int[] cur = new int[b.size() + 1];
    for (int i = 1; i <= a.size(); i++) {
      for (int j = 1; j <= b.size(); j++) {
        cur[j] = a.get(i - 1).equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.size()];
  }

  public static Score score(String reference, String candidate) {
    List<String> ref = tokenize(reference);
    List<String> cand = tokenize(candidate);
    if (ref.isEmpty() || cand.isEmpty()) {
      return new Score(0, 0, 0);
    }
    int l = lcs(ref, cand);
    double p = (double) l / cand.size();
    double r = (double) l / ref.size();
    return new Score(p, r, p + r > 0 ? 2 * p * r / (p + r) : 0);
  }

  /** The F-measure alone. */
  public static double f(String reference, String candidate) {
    return score(reference, candidate).f();
  }
}
