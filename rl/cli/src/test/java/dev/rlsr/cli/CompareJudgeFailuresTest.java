// `rlsr compare --judge-url` against a misbehaving judge: a trickled body ends at the deadline, an endless body at
// the size cap, 503s are retried, a run that fails keeps its judgments and resumes, a refused connection and an
// unknown host get clear messages, and escape codes from the server never reach the output.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareJudgeFailuresTest {
  private static final Duration BOUND = Duration.ofSeconds(40);

  @TempDir Path tmp;
  private MisbehavingJudge judge;

  @AfterEach
  void stop() throws Exception {
    if (judge != null) {
      judge.close();
    }
  }

  /** n pairs; A's answer is the reference on even prompts, B's on odd ones. */
  private Path[] pairs(int n) throws Exception {
    StringBuilder a = new StringBuilder();
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      a.append(row("prompt " + i, "fox " + i, i % 2 == 0 ? "fox " + i : "whale")).append('\n');
      b.append(row("prompt " + i, "fox " + i, i % 2 == 0 ? "whale" : "fox " + i)).append('\n');
    }
    Path fa = tmp.resolve("a.jsonl");
    Path fb = tmp.resolve("b.jsonl");
    Files.writeString(fa, a);
    Files.writeString(fb, b);
    return new Path[] {fa, fb};
  }

  private static String row(String prompt, String ref, String response) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("prompt", prompt).put("reference", ref).put("response", response);
    return n.toString();
  }

  private static final Pattern OUTPUT_A = Pattern.compile("## Output \\(A\\)\\n(.*?)\\n\\n## Output \\(B\\)",
      Pattern.DOTALL);

  /** The verdict of a judge that prefers the output about the fox. */
  private static String fair(String user) {
    Matcher m = OUTPUT_A.matcher(user);
    return m.find() && m.group(1).startsWith("fox") ? "A" : "B";
  }

  private Cli.Run compare(Path[] ab, String... flags) {
    List<String> args = new ArrayList<>(List.of("compare", ab[0].toString(), ab[1].toString()));
    args.addAll(List.of(flags));
    return Cli.run(args.toArray(new String[0]));
  }

  /** A failed run: exit 1, one "error:" message without a stack trace, null or control characters. */
  private static void assertCleanFailure(Cli.Run r) {
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("error: ").doesNotContain("null").doesNotContain("\tat ")
        .doesNotContain("Exception");
    assertNoControlCharacters(r.err());
  }

  private static void assertNoControlCharacters(String s) {
    for (char c : s.toCharArray()) {
      assertThat((c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7f && c <= 0x9f))
          .as("control character U+%04X in %s", (int) c, s).isFalse();
    }
  }

  private static void awaitZero(java.util.concurrent.atomic.AtomicInteger n, Duration within) throws Exception {
    long end = System.nanoTime() + within.toNanos();
    while (n.get() != 0 && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertThat(n.get()).as("server still sending").isZero();
  }

  @Test
  void slowBodyEndsAtTheDeadline() {
    assertTimeoutPreemptively(BOUND, () -> {
      Path[] ab = pairs(2);
      judge = new MisbehavingJudge((n, user, out) -> judge.stream(out, new byte[] {' '}, 1000));
      long t0 = System.nanoTime();
      var r = compare(ab, "--judge-url", judge.url(), "--judge-timeout", "1.5");
      double s = (System.nanoTime() - t0) / 1e9;
      assertCleanFailure(r);
      assertThat(r.err()).contains(judge.endpoint() + ": no complete reply within 1.50 s (--judge-timeout)")
          .contains("no pair judged yet");
      assertThat(s).isBetween(1.4, 1.5 + 3.0);
      assertThat(judge.requests.get()).as("a request out of time is not retried").isEqualTo(1);
      awaitZero(judge.running, Duration.ofSeconds(5)); // the client closed the connection
    });
  }

  @Test
  void endlessBodyStopsAtTheSizeCap() {
    assertTimeoutPreemptively(BOUND, () -> {
      Path[] ab = pairs(2);
      byte[] chunk = new byte[64 << 10];
      java.util.Arrays.fill(chunk, (byte) 'x');
      judge = new MisbehavingJudge((n, user, out) -> judge.stream(out, chunk, 0));
      long t0 = System.nanoTime();
      var r = compare(ab, "--judge-url", judge.url(), "--judge-timeout", "30");
      double s = (System.nanoTime() - t0) / 1e9;
      assertCleanFailure(r);
      assertThat(r.err()).contains(judge.endpoint() + ": reply larger than 1 MiB");
      assertThat(s).isLessThan(15);
      assertThat(judge.requests.get()).isEqualTo(1);
      awaitZero(judge.running, Duration.ofSeconds(5));
      // the client stopped reading at the cap: what the server got out is the cap plus socket buffers
      assertThat(judge.streamed.get()).isLessThan(32L << 20);
    });
  }

  @Test
  void declaredOversizeBodyIsRefusedUpFront() {
    assertTimeoutPreemptively(BOUND, () -> {
      Path[] ab = pairs(1);
      judge = new MisbehavingJudge((n, user, out) -> {
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 5000000000\r\n\r\n{".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(60_000);
      });
      var r = compare(ab, "--judge-url", judge.url());
      assertCleanFailure(r);
      assertThat(r.err()).contains("reply larger than 1 MiB");
    });
  }

  @Test
  void transient503sAreRetried() {
    assertTimeoutPreemptively(BOUND, () -> {
      Path[] ab = pairs(4);
      judge = new MisbehavingJudge((n, user, out) -> {
        if (n <= 2) {
          MisbehavingJudge.respond(out, 503, "{\"error\": \"loading\"}", n == 2 ? "Retry-After: 1" : "X-A: b");
        } else {
          MisbehavingJudge.respond(out, 200, MisbehavingJudge.completion(fair(user)));
        }
      });
      long t0 = System.nanoTime();
      var r = compare(ab, "--judge-url", judge.url() + "/v1", "--judge-backoff", "0.01");
      double s = (System.nanoTime() - t0) / 1e9;
      assertThat(r.code()).as(r.err()).isZero();
      JsonNode j = Json.MAPPER.readTree(r.out());
      assertThat(j.get("n").asInt()).isEqualTo(4);
      assertThat(j.get("wins").asInt()).isEqualTo(2);
      assertThat(j.get("losses").asInt()).isEqualTo(2);
      assertThat(judge.requests.get()).isEqualTo(6);
      assertThat(s).as("Retry-After: 1 honoured").isGreaterThanOrEqualTo(1.0);
      // the judgments were kept next to A.jsonl
      assertThat(Files.readAllLines(tmp.resolve("a.vs-b.judge.jsonl"))).hasSize(4);
    });
  }

  @Test
  void persistent503FailsKeepsTheJudgmentsAndTheRunResumes() {
    assertTimeoutPreemptively(BOUND, () -> {
      Path[] ab = pairs(6);
      AtomicBoolean down = new AtomicBoolean();
      judge = new MisbehavingJudge((n, user, out) -> {
        if (n > 3 && down.get()) {
          MisbehavingJudge.respond(out, 503, "Service Unavailable");
        } else {
          MisbehavingJudge.respond(out, 200, MisbehavingJudge.completion(fair(user)));
        }
      });
      down.set(true);
      Path cache = tmp.resolve("sub/judgments.jsonl");
      String[] flags = {"--judge-url", judge.url(), "--judge-retries", "2", "--judge-backoff", "0.01",
          "--judge-cache", cache.toString(), "--seed", "5"};
      var r = compare(ab, flags);
      assertCleanFailure(r);
      assertThat(r.err()).contains(judge.endpoint() + ": HTTP 503: Service Unavailable (gave up after 3 attempts")
          .contains("judged 3 of 6 pairs so far: win rate so far ")
          .contains("judgments saved in " + cache + "; re-run the same command to resume");
      assertThat(judge.requests.get()).isEqualTo(3 + 3);
      assertThat(Files.readAllLines(cache)).hasSize(3);

      down.set(false); // the server recovers; the same command resumes
      int before = judge.requests.get();
      var again = compare(ab, flags);
      assertThat(again.code()).as(again.err()).isZero();
      assertThat(judge.requests.get() - before).as("saved pairs are not asked again").isEqualTo(3);
      assertThat(again.err()).contains("3 of 6 judgments read from " + cache);
      JsonNode j = Json.MAPPER.readTree(again.out());
      assertThat(j.get("n").asInt()).isEqualTo(6);
      assertThat(j.get("wins").asInt()).isEqualTo(3);
      assertThat(j.get("losses").asInt()).isEqualTo(3);
      assertThat(Files.readAllLines(cache)).hasSize(6);

      // a third run asks nothing
      int done = judge.requests.get();
      var third = compare(ab, flags);
      assertThat(third.code()).isZero();
      assertThat(third.out()).isEqualTo(again.out());
      assertThat(judge.requests.get()).isEqualTo(done);
    });
  }

  @Test
  void refusedConnectionSaysSo() {
    assertTimeoutPreemptively(BOUND, () -> {
      Path[] ab = pairs(2);
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      var r = compare(ab, "--judge-url", "http://127.0.0.1:" + port, "--judge-retries", "1", "--judge-backoff",
          "0.01");
      assertCleanFailure(r);
      assertThat(r.err()).contains("cannot connect to http://127.0.0.1:" + port
          + "/v1/chat/completions: connection refused (gave up after 2 attempts").contains("no pair judged yet");
    });
  }

  @Test
  void unknownHostSaysSo() {
    assertTimeoutPreemptively(BOUND, () -> {
      Path[] ab = pairs(1);
      var r = compare(ab, "--judge-url", "http://no-such-judge.invalid:8000/v1", "--judge-backoff", "0.01");
      assertCleanFailure(r);
      assertThat(r.err()).contains("cannot connect to http://no-such-judge.invalid:8000/v1/chat/completions:"
          + " unknown host no-such-judge.invalid");
    });
  }

  private static final String NASTY = "\u001b[2J\u001b]0;owned\u0007\u009b31m\r\u0000";

  @Test
  void escapeCodesFromTheServerAreStripped() {
    assertTimeoutPreemptively(BOUND, () -> {
      Path[] ab = pairs(2);
      // a verdict wrapped in escape codes still counts, and the stored reply is clean
      judge = new MisbehavingJudge((n, user, out) ->
          MisbehavingJudge.respond(out, 200, MisbehavingJudge.completion(NASTY + fair(user) + NASTY)));
      var ok = compare(ab, "--judge-url", judge.url());
      assertThat(ok.code()).as(ok.err()).isZero();
      assertThat(Json.MAPPER.readTree(ok.out()).get("wins").asInt()).isEqualTo(1);
      String cache = Files.readString(tmp.resolve("a.vs-b.judge.jsonl"));
      assertThat(cache).doesNotContain("\\u001b").doesNotContain("\\u001B").doesNotContain("\\u0007")
          .doesNotContain("owned").doesNotContain("[2J");
      assertNoControlCharacters(cache);
      judge.close();

      // an HTTP error's body in the message
      judge = new MisbehavingJudge((n, user, out) -> MisbehavingJudge.respond(out, 400, NASTY + "bad request"));
      var err = compare(ab, "--judge-url", judge.url());
      assertCleanFailure(err);
      assertThat(err.err()).contains(judge.endpoint() + ": HTTP 400: bad request").doesNotContain("owned");
      assertThat(judge.requests.get()).as("400 is not retried").isEqualTo(1);
      judge.close();

      // a reply that is not JSON
      judge = new MisbehavingJudge((n, user, out) -> MisbehavingJudge.respond(out, 200, "<html>" + NASTY));
      var html = compare(ab, "--judge-url", judge.url());
      assertCleanFailure(html);
      assertThat(html.err()).contains(judge.endpoint() + ": reply is not JSON: <html>");
      judge.close();

      // JSON without choices
      judge = new MisbehavingJudge((n, user, out) ->
          MisbehavingJudge.respond(out, 200, "{\"detail\":\"x\\u001b[1m\"}"));
      var shape = compare(ab, "--judge-url", judge.url());
      assertCleanFailure(shape);
      assertThat(shape.err()).contains("reply has no choices[0].message.content");
    });
  }

  @Test
  void hugeRetryAfterFailsAtOnce() {
    assertTimeoutPreemptively(BOUND, () -> {
      Path[] ab = pairs(1);
      judge = new MisbehavingJudge((n, user, out) ->
          MisbehavingJudge.respond(out, 429, "{\"error\":\"quota\"}", "Retry-After: 3600"));
      var r = compare(ab, "--judge-url", judge.url());
      assertCleanFailure(r);
      assertThat(r.err()).contains("HTTP 429").contains("the server asks to retry after 3600 s");
      assertThat(judge.requests.get()).isEqualTo(1);
    });
  }

  @Test
  void badFlagsAndForeignCacheAreRefused() throws Exception {
    Path[] ab = pairs(1);
    var t = compare(ab, "--judge-url", "http://127.0.0.1:9", "--judge-timeout", "0");
    assertThat(t.err()).contains("--judge-timeout must be a positive number");
    var same = compare(ab, "--judge-url", "http://127.0.0.1:9", "--judge-cache", ab[0].toString());
    assertThat(same.err()).contains("is one of the inputs");
    Path foreign = tmp.resolve("notes.jsonl");
    Files.writeString(foreign, "{\"hello\": 1}\n");
    var f = compare(ab, "--judge-url", "http://127.0.0.1:9", "--judge-cache", foreign.toString());
    assertThat(f.code()).isEqualTo(1);
    assertThat(f.err()).contains(foreign + " line 1: not a judgment");
    assertThat(Files.readString(foreign)).isEqualTo("{\"hello\": 1}\n");
  }
}
