// SentenceEmbedder and EmbeddingReward on the built-in all-MiniLM-L6-v2: batch invariance, long and empty texts, rewards.
package dev.rlsr.embedder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SentenceEmbedderTest {
  private static SentenceEmbedder embedder;

  @BeforeAll
  static void load() {
    embedder = SentenceEmbedder.load(SentenceEmbedder.DEFAULT, 2);
  }

  @AfterAll
  static void close() {
    embedder.close();
  }

  private static String longText(int sentences) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < sentences; i++) {
      text.append("Sentence number ").append(i).append(" talks about gardening, tomatoes and the weather in spring. ");
    }
    return text.toString();
  }

  @Test
  void describesTheBuiltIn() {
    assertThat(embedder.name()).isEqualTo("all-minilm-l6-v2");
    assertThat(embedder.dimension()).isEqualTo(384);
    assertThat(embedder.windowTokens()).isEqualTo(510);
    assertThat(embedder.normalizes()).isTrue();
    assertThat(embedder.pooling()).isEqualTo(Pooling.MEAN);
    assertThat(embedder.textPrefix()).isEmpty();
  }

  @Test
  void sameTextSameEmbeddingWhateverBatchAndPadding() {
    String text = "The quick brown fox jumps over the lazy dog.";
    float[] alone = embedder.embed(List.of(text))[0];
    List<String> mixed = new ArrayList<>();
    mixed.add("Hi.");
    mixed.add(text);
    mixed.add("A much longer neighbour that forces padding: " + longText(6));
    mixed.add("");
    for (int i = 0; i < 40; i++) {
      mixed.add("filler text " + i + (i % 3 == 0 ? longText(1) : ""));
    }
    assertWithin(embedder.embed(mixed)[1], alone, 1e-5f); // default batch size 32: padded among 44 texts
    for (int batchSize : new int[] {1, 3}) {
      try (SentenceEmbedder other = SentenceEmbedder.load(SentenceEmbedder.DEFAULT, 2, batchSize)) {
        assertWithin(other.embed(mixed)[1], alone, 1e-5f);
      }
    }
  }

  private static void assertWithin(float[] actual, float[] expected, float tolerance) {
    for (int j = 0; j < expected.length; j++) {
      assertThat(Math.abs(actual[j] - expected[j])).as("dim %d", j).isLessThanOrEqualTo(tolerance);
    }
  }

  @Test
  void vectorsAreUnitLengthAndInOrder() {
    List<String> texts = List.of("cats purr", "stock markets fell sharply", "kittens meow");
    float[][] v = embedder.embed(texts);
    assertThat(v).hasNumberOfRows(3);
    for (float[] row : v) {
      double norm = 0;
      for (float x : row) {
        norm += x * x;
      }
      assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    }
    assertThat(EmbeddingReward.cosine(v[0], v[2])).isGreaterThan(EmbeddingReward.cosine(v[0], v[1]));
    assertThat(embedder.embed(List.of())).isEmpty();
  }

  @Test
  void longTextIsWindowedNotCut() {
    String head = longText(60); // well over 510 tokens
    assertThat(embedder.tokenCounts(List.of(head))[0]).isGreaterThan(510);
    String tail = " Quantum chromodynamics describes quarks and gluons bound by the strong force. ".repeat(30);
    float[][] v = embedder.embed(List.of(head, head + tail));
    // Truncation to the first window would make both identical; windows keep the tail's meaning.
    assertThat(EmbeddingReward.cosine(v[0], v[1])).isLessThan(0.99f);
  }

  @Test
  void emptyTextHasTheEncodersEmptySequenceEmbedding() {
    float[][] v = embedder.embed(List.of("", "   \n"));
    assertThat(EmbeddingReward.cosine(v[0], v[1])).isGreaterThan(0.99999f);
    assertThat(EmbeddingReward.cosine(v[0], v[0])).isGreaterThan(0.99999f); // a unit vector, not zeros
  }

  @Test
  void rewardIsCosineToReferenceWithCacheAndZeroForBlank() {
    EmbeddingReward reward = new EmbeddingReward(embedder);
    String reference = "Paris is the capital of France.";
    float[] r = reward.score(
        List.of(reference, "The capital of France is Paris.", "Bananas are rich in potassium.", " "),
        List.of(reference, reference, reference, reference));
    assertThat(r[0]).isGreaterThan(0.9999f);
    assertThat(r[1]).isGreaterThan(r[2]);
    assertThat(r[3]).isZero();
    float[][] v = embedder.embed(List.of("Bananas are rich in potassium.", reference));
    assertThat(r[2]).isCloseTo(EmbeddingReward.cosine(v[0], v[1]), org.assertj.core.data.Offset.offset(1e-5f));
    assertThat(reward.cachedReferences()).isEqualTo(1);
    reward.score(List.of("x"), List.of("another reference"));
    assertThat(reward.cachedReferences()).isEqualTo(2);
    assertThatThrownBy(() -> reward.score(List.of("a", "b"), List.of("c")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one reference per candidate");
  }

  @Test
  void cosineOfKnownVectors() {
    assertThat(EmbeddingReward.cosine(new float[] {1, 0}, new float[] {0, 2})).isZero();
    assertThat(EmbeddingReward.cosine(new float[] {1, 1}, new float[] {2, 2})).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-6f));
    assertThat(EmbeddingReward.cosine(new float[] {1, 0}, new float[] {-3, 0})).isCloseTo(-1f, org.assertj.core.data.Offset.offset(1e-6f));
    assertThat(EmbeddingReward.cosine(new float[] {0, 0}, new float[] {1, 0})).isZero();
  }

  @Test
  void unknownNameIsAClearError() {
    assertThatThrownBy(() -> SentenceEmbedder.load("no-such-encoder"))
        .isInstanceOf(EmbedderException.class)
        .hasMessageContaining("no-such-encoder")
        .hasMessageContaining("all-minilm-l6-v2, e5-small-v2");
  }
}
