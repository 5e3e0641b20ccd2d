// ROUGE-L on hand-computed cases: tokenization like rouge-score's default, LCS, precision/recall/F.
package dev.rlsr.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class RougeLTest {
  private static final double EPS = 1e-12;

  @Test
  void tokenizesLowercaseAlphanumericRuns() {
    assertThat(RougeL.tokenize("The Red-fox, 7 apples!")).containsExactly("the", "red", "fox", "7", "apples");
    // non-ASCII letters are separators, as in rouge-score's default tokenizer
    assertThat(RougeL.tokenize("café au lait")).containsExactly("caf", "au", "lait");
    assertThat(RougeL.tokenize(" ... ")).isEmpty();
  }

  @Test
  void lcsOfWordLists() {
    assertThat(RougeL.lcs(List.of("a", "b", "c", "d"), List.of("a", "c", "d"))).isEqualTo(3);
    assertThat(RougeL.lcs(List.of("a", "b", "c", "d"), List.of("d", "c", "b", "a"))).isEqualTo(1);
    assertThat(RougeL.lcs(List.of("x"), List.of())).isZero();
  }

  @Test
  void identicalTextsScoreOneRegardlessOfCaseAndPunctuation() {
    var s = RougeL.score("The red fox lives in the forest.", "the RED fox lives in the forest");
    assertThat(s.precision()).isEqualTo(1.0);
    assertThat(s.recall()).isEqualTo(1.0);
    assertThat(s.f()).isEqualTo(1.0);
  }

  @Test
  void droppedWord() {
    // reference 6 tokens, candidate 5, LCS 5: P = 1, R = 5/6, F = 2 * 5/6 / (11/6) = 10/11
    var s = RougeL.score("the cat sat on the mat", "the cat on the mat");
    assertThat(s.precision()).isCloseTo(1.0, within(EPS));
    assertThat(s.recall()).isCloseTo(5.0 / 6, within(EPS));
    assertThat(s.f()).isCloseTo(10.0 / 11, within(EPS));
  }

  @Test
  void subsequenceNotSubstring() {
    // reference: the quick brown fox jumps over the lazy dog (9); candidate: the quick brown dog jumps on the log (8)
    // LCS "the quick brown jumps the" = 5: P = 5/8, R = 5/9, F = 2PR/(P+R) = 10/17
    var s = RougeL.score("The quick brown fox jumps over the lazy dog", "The quick brown dog jumps on the log.");
    assertThat(s.precision()).isCloseTo(0.625, within(EPS));
    assertThat(s.recall()).isCloseTo(5.0 / 9, within(EPS));
    assertThat(s.f()).isCloseTo(10.0 / 17, within(EPS));
  }

  @Test
  void reversedOrderKeepsOneWord() {
    assertThat(RougeL.f("a b c d", "d c b a")).isCloseTo(0.25, within(EPS));
  }

  @Test
  void nothingSharedOrEmptyIsZero() {
    assertThat(RougeL.f("red fox", "blue whale")).isZero();
    assertThat(RougeL.f("", "blue whale")).isZero();
    assertThat(RougeL.f("red fox", "!!!")).isZero();
  }
}
