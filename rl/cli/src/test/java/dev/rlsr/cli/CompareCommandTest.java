// `rlsr compare`: win rates from judge scores in two eval outputs (matched by prompt or by index), clear errors,
// and LLM judging against a fake OpenAI-compatible server on localhost with randomized A/B order.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.rlsr.policy.util.Json;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareCommandTest {
  @TempDir Path tmp;
  private HttpServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private Path rows(String name, Object[]... rows) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (Object[] r : rows) {
      ObjectNode n = Json.MAPPER.createObjectNode();
      n.put("prompt", (String) r[0]);
      n.put("reference", (String) r[1]);
      n.put("response", (String) r[2]);
      if (r.length > 3) {
        n.put("judge_reward", (Double) r[3]);
      }
      sb.append(n).append('\n');
    }
    Path f = tmp.resolve(name);
    Files.writeString(f, sb.toString());
    return f;
  }

  private static JsonNode json(String out) throws Exception {
    return Json.MAPPER.readTree(out);
  }

  @Test
  void winRateByJudgeRewardMatchedByPrompt() throws Exception {
    Path a = rows("a.jsonl",
        new Object[] {"p1", "r1", "x", 0.9}, new Object[] {"p2", "r2", "x", 0.5},
        new Object[] {"p3", "r3", "x", 0.3}, new Object[] {"p4", "r4", "x", 0.7000000001});
    // B in another order: A wins p1 and p2, loses p3, ties p4
    Path b = rows("b.jsonl",
        new Object[] {"p4", "r4", "y", 0.7}, new Object[] {"p3", "r3", "y", 0.8},
        new Object[] {"p2", "r2", "y", 0.1}, new Object[] {"p1", "r1", "y", 0.2});
    var r = Cli.run("compare", a.toString(), b.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = json(r.out());
    assertThat(j.get("wins").asInt()).isEqualTo(2);
    assertThat(j.get("losses").asInt()).isEqualTo(1);
    assertThat(j.get("ties").asInt()).isEqualTo(1);
    assertThat(j.get("n").asInt()).isEqualTo(4);
    assertThat(j.get("win_rate").asDouble()).isEqualTo(2.5 / 4);
    // swapping the sides mirrors the result
    JsonNode back = json(Cli.run("compare", b.toString(), a.toString()).out());
    assertThat(back.get("win_rate").asDouble()).isEqualTo(1.5 / 4);
  }

  @Test
  void repeatedPromptsAreMatchedByIndex() throws Exception {
    Path a = rows("a.jsonl", new Object[] {"p", "r", "x", 0.9}, new Object[] {"p", "r", "x", 0.1});
    Path b = rows("b.jsonl", new Object[] {"p", "r", "y", 0.5}, new Object[] {"p", "r", "y", 0.5});
    JsonNode j = json(Cli.run("compare", a.toString(), b.toString()).out());
    assertThat(j.get("wins").asInt()).isEqualTo(1);
    assertThat(j.get("losses").asInt()).isEqualTo(1);
    Path c = rows("c.jsonl", new Object[] {"p", "r", "y", 0.5});
    var r = Cli.run("compare", a.toString(), c.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("same number of rows");
  }

  @Test
  void errorsNameTheFileLineAndField() throws Exception {
    Path a = rows("a.jsonl", new Object[] {"p1", "r", "x", 0.9}, new Object[] {"p2", "r", "x"});
    Path b = rows("b.jsonl", new Object[] {"p1", "r", "y", 0.5}, new Object[] {"p2", "r", "y", 0.5});
    var r = Cli.run("compare", a.toString(), b.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains(a + " line 2").contains("judge_reward");
    Path other = rows("o.jsonl", new Object[] {"p1", "r", "y", 0.5}, new Object[] {"q", "r", "y", 0.5});
    var miss = Cli.run("compare", b.toString(), other.toString());
    assertThat(miss.code()).isEqualTo(1);
    assertThat(miss.err()).contains(b + " line 2").contains("p2");
    Files.writeString(tmp.resolve("bad.jsonl"), "{\"prompt\": \"p1\"}\nnot json\n");
    var bad = Cli.run("compare", tmp.resolve("bad.jsonl").toString(), b.toString());
    assertThat(bad.err()).contains("bad.jsonl line 2");
  }

  /** A fake chat-completions server answering with {@code verdict(userMessage)}; returns its base URL. */
  private String fakeJudge(Function<String, String> verdict, List<String> seen, int status) throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newSingleThreadExecutor());
    server.createContext("/v1/chat/completions", ex -> {
      JsonNode req = Json.MAPPER.readTree(ex.getRequestBody().readAllBytes());
      String user = req.path("messages").path(1).path("content").asText();
      synchronized (seen) {
        seen.add(user);
      }
      ObjectNode reply = Json.MAPPER.createObjectNode();
      reply.putArray("choices").addObject().putObject("message").put("role", "assistant")
          .put("content", verdict.apply(user));
      byte[] body = reply.toString().getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private static final Pattern OUTPUTS = Pattern.compile("## Output \\(A\\)\\n(.*)\\n\\n## Output \\(B\\)\\n(.*)\\n\\n",
      Pattern.DOTALL);

  @Test
  void llmJudgeWithRandomizedOrder() throws Exception {
    List<Object[]> ra = new ArrayList<>();
    List<Object[]> rb = new ArrayList<>();
    String ref = "The red fox lives in the forest.";
    for (int i = 0; i < 20; i++) {
      // A is right on the first 14 prompts, B on the rest
      boolean aGood = i < 14;
      ra.add(new Object[] {"prompt " + i, ref, aGood ? ref : "Blue whale."});
      rb.add(new Object[] {"prompt " + i, ref, aGood ? "Blue whale." : "A red fox lives in the forest."});
    }
    Path a = rows("a.jsonl", ra.toArray(new Object[0][]));
    Path b = rows("b.jsonl", rb.toArray(new Object[0][]));
    List<String> seen = new ArrayList<>();
    AtomicInteger aShownFirst = new AtomicInteger();
    String url = fakeJudge(user -> {
      Matcher m = OUTPUTS.matcher(user);
      if (!m.find()) {
        return "?";
      }
      if (m.group(1).equals("The red fox lives in the forest.")) {
        aShownFirst.incrementAndGet(); // A's good answer shown as Output (A)
      }
      // the fake judge prefers the output about the fox
      return m.group(1).contains("fox") ? "A" : "The better one is B.";
    }, seen, 200);
    var r = Cli.run("compare", a.toString(), b.toString(), "--judge-url", url + "/v1", "--judge-model", "fake",
        "--seed", "3");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = json(r.out());
    assertThat(j.get("wins").asInt()).isEqualTo(14);
    assertThat(j.get("losses").asInt()).isEqualTo(6);
    assertThat(j.get("ties").asInt()).isZero();
    assertThat(j.get("win_rate").asDouble()).isEqualTo(0.7);
    assertThat(seen).hasSize(20);
    assertThat(seen.get(0)).contains("## Instruction\nprompt 0").contains("## Reference answer\nThe red fox");
    // both orders were shown: A's good answer came first on some prompts and second on others
    assertThat(aShownFirst.get()).isBetween(1, 13);
  }

  @Test
  void unreadableVerdictsAreTiesAndServerErrorsFail() throws Exception {
    Path a = rows("a.jsonl", new Object[] {"p1", "r", "x"}, new Object[] {"p2", "r", "x"});
    Path b = rows("b.jsonl", new Object[] {"p1", "r", "y"}, new Object[] {"p2", "r", "y"});
    List<String> seen = new ArrayList<>();
    String url = fakeJudge(user -> "I cannot decide.", seen, 200);
    JsonNode j = json(Cli.run("compare", a.toString(), b.toString(), "--judge-url", url).out());
    assertThat(j.get("ties").asInt()).isEqualTo(2);
    assertThat(j.get("invalid").asInt()).isEqualTo(2);
    assertThat(j.get("win_rate").asDouble()).isEqualTo(0.5);
    stop();
    String failing = fakeJudge(user -> "A", seen, 500);
    var r = Cli.run("compare", a.toString(), b.toString(), "--judge-url", failing + "/v1/chat/completions",
        "--judge-backoff", "0.01");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("--judge-url").contains("HTTP 500");
  }
}
