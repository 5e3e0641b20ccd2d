// LlmJudge's pieces: control characters and escape sequences cleaned, Retry-After read, backoff doubling to its
// cap, cache keys per question and order, and a judge cache that survives a line cut short by a crash.
package dev.rlsr.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlmJudgeTest {
  @TempDir Path tmp;

  @Test
  void cleanRemovesEscapeSequencesAndControlCharacters() {
    assertThat(ServerText.clean("plain\ttext\nnext")).isEqualTo("plain\ttext\nnext");
    assertThat(ServerText.clean("\u001b[1;31mA\u001b[0m")).isEqualTo("A");
    assertThat(ServerText.clean("x\u001b]0;title\u0007y\u001b]8;;http://e\u001b\\z")).isEqualTo("xyz");
    assertThat(ServerText.clean("a\u009b2Jb\u009d0;t\u009cc")).isEqualTo("abc");
    assertThat(ServerText.clean("a\u001bcb\r\u0000\u007f\u0085c\u001b")).isEqualTo("abc");
    assertThat(ServerText.clean("unicode é ✓ 日本")).isEqualTo("unicode é ✓ 日本");
    assertThat(ServerText.snippet("line\u001b[2K one\n\n two  ", 200)).isEqualTo("line one two");
    assertThat(ServerText.snippet("x".repeat(300), 20)).hasSize(20).endsWith("...");
    assertThat(LlmJudge.parse(ServerText.clean("\u001b[1mB\u001b[0m"))).isEqualTo(LlmJudge.Verdict.SECOND);
  }

  @Test
  void retryAfterAsSecondsOrDate() {
    assertThat(ChatCompletionsClient.retryAfter(Optional.empty())).isNull();
    assertThat(ChatCompletionsClient.retryAfter(Optional.of(" 7 "))).isEqualTo(Duration.ofSeconds(7));
    assertThat(ChatCompletionsClient.retryAfter(Optional.of("-1"))).isNull();
    assertThat(ChatCompletionsClient.retryAfter(Optional.of("soon"))).isNull();
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now().plusSeconds(120));
    assertThat(ChatCompletionsClient.retryAfter(Optional.of(date)).toSeconds()).isBetween(100L, 120L);
    String past = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now().minusSeconds(120));
    assertThat(ChatCompletionsClient.retryAfter(Optional.of(past))).isEqualTo(Duration.ZERO);
  }

  @Test
  void backoffDoublesUpToItsCap() {
    var j = new ChatCompletionsClient(LlmJudge.endpoint("http://127.0.0.1:9"), null,
        new LlmJudge.Options(Duration.ofSeconds(5), 10, Duration.ofMillis(500), LlmJudge.MAX_REPLY_BYTES));
    assertThat(j.backoff(1)).isEqualTo(Duration.ofMillis(500));
    assertThat(j.backoff(2)).isEqualTo(Duration.ofSeconds(1));
    assertThat(j.backoff(4)).isEqualTo(Duration.ofSeconds(4));
    assertThat(j.backoff(60)).isEqualTo(LlmJudge.MAX_BACKOFF);
  }

  @Test
  void keysDependOnTheJudgeTheQuestionAndTheOrder() {
    var j = new LlmJudge("http://127.0.0.1:9", "m", null, Duration.ofSeconds(1));
    String ab = LlmJudge.userMessage("p", "r", "x", "y");
    String ba = LlmJudge.userMessage("p", "r", "y", "x");
    assertThat(j.key(ab)).isEqualTo(j.key(ab)).isNotEqualTo(j.key(ba)).hasSize(64);
    assertThat(new LlmJudge("http://127.0.0.1:9", "other", null, Duration.ofSeconds(1)).key(ab))
        .isNotEqualTo(j.key(ab));
    assertThat(new LlmJudge("http://127.0.0.1:10", "m", null, Duration.ofSeconds(1)).key(ab))
        .isNotEqualTo(j.key(ab));
  }

  @Test
  void urlsThatAreNotHttpAreRefused() {
    assertThatThrownBy(() -> LlmJudge.endpoint("ftp://x/v1")).isInstanceOf(RlsrException.class)
        .hasMessageContaining("not an http(s) URL");
    assertThatThrownBy(() -> LlmJudge.endpoint("http:\u001b[2Jx")).hasMessageNotContaining("\u001b");
    assertThat(LlmJudge.endpoint("http://h:1/").toString()).isEqualTo("http://h:1/v1/chat/completions");
  }

  @Test
  void cacheSurvivesALineCutShortAndRefusesForeignFiles() throws Exception {
    Path f = tmp.resolve("c.jsonl");
    try (JudgeCache c = JudgeCache.open(f)) {
      assertThat(c.size()).isZero();
      c.put("k1", LlmJudge.Verdict.FIRST, true, "p", "A");
      c.put("k2", LlmJudge.Verdict.INVALID, false, "p", "no idea");
    }
    Files.writeString(f, Files.readString(f) + "{\"key\":\"k3\",\"verd"); // a crash mid-write
    try (JudgeCache c = JudgeCache.open(f)) {
      assertThat(c.size()).isEqualTo(2);
      assertThat(c.get("k1")).isEqualTo(LlmJudge.Verdict.FIRST);
      assertThat(c.get("k2")).isEqualTo(LlmJudge.Verdict.INVALID);
      assertThat(c.get("k3")).isNull();
      c.put("k3", LlmJudge.Verdict.SECOND, true, "p", "B");
    }
    try (JudgeCache c = JudgeCache.open(f)) {
      assertThat(c.size()).isEqualTo(3);
      assertThat(c.get("k3")).isEqualTo(LlmJudge.Verdict.SECOND);
    }
    Path foreign = tmp.resolve("f.jsonl");
    Files.writeString(foreign, "{\"prompt\":\"p\"}\n{\"key\":\"k\",\"verdict\":\"A\"}\n");
    assertThatThrownBy(() -> JudgeCache.open(foreign)).hasMessageContaining(foreign + " line 1: not a judgment");
  }
}
