// `rlsr serve` through the official OpenAI Java SDK on the demo model: chat and completions, streamed and not, greedy
// answers equal to `rlsr generate --greedy`, 16 concurrent requests in one batched run, every bad request a 4xx while
// the server keeps serving, the bearer-token check, `rlsr compare --judge-url` against it, and SIGTERM.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.rlsr.policy.util.Json;
import dev.rlsr.serve.OpenAiServer;
import dev.rlsr.serve.ServedModel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServeCommandTest {
  static final Path DEMO = ChatTemplateCommandTest.DEMO_BASE;
  static final String NAME = "demo";
  static final List<String> PROMPTS = BenchServeCommand.BUILT_IN;

  static ServedModel model;
  static OpenAiServer server;
  static StringWriter log = new StringWriter();
  static OpenAIClient client;

  @TempDir Path tmp;

  @BeforeAll
  static void start() {
    assumeTrue(Files.isRegularFile(DEMO.resolve("model.safetensors")), "models/demo-base absent");
    model = ServedModel.open(DEMO, null, 1, dev.rlsr.export.Device.CPU);
    server = new OpenAiServer(model, new OpenAiServer.Options(NAME, "127.0.0.1", 0, null, 16, 0, 1 << 20, 64),
        new PrintWriter(log, true)).start();
    client = client(server, "unused");
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
      model.close();
    }
  }

  static OpenAIClient client(OpenAiServer s, String key) {
    return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + s.port() + "/v1").apiKey(key).maxRetries(0)
        .timeout(Duration.ofSeconds(60)).build();
  }

  static ChatCompletionCreateParams greedyChat(String prompt, int maxTokens) {
    return ChatCompletionCreateParams.builder().model(NAME).addUserMessage(prompt).temperature(0.0)
        .maxCompletionTokens(maxTokens).build();
  }

  static String generateGreedy(String prompt, int maxTokens) throws Exception {
    var r = Cli.run("generate", "--model", DEMO.toString(), "--prompt", prompt, "--greedy", "--max-new-tokens",
        String.valueOf(maxTokens), "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    return Json.MAPPER.readTree(r.out().trim()).get("completion").asText();
  }

  @Test
  void greedyChatAnswersAreThoseOfGenerateGreedyStreamedOrNot() throws Exception {
    for (String p : PROMPTS.subList(0, 3)) {
      String expected = generateGreedy(p, 24);
      ChatCompletion c = client.chat().completions().create(greedyChat(p, 24));
      assertThat(c.choices()).hasSize(1);
      assertThat(c.choices().get(0).message().content().orElse("")).isEqualTo(expected);
      assertThat(c.model()).isEqualTo(NAME);
      var usage = c.usage().orElseThrow();
      assertThat(usage.promptTokens()).isEqualTo(model.chatPrompt(
          List.of(dev.rlsr.policy.data.Message.user(p))).length);
      assertThat(usage.completionTokens()).isBetween(1L, 24L);
      assertThat(usage.totalTokens()).isEqualTo(usage.promptTokens() + usage.completionTokens());

      StringBuilder streamed = new StringBuilder();
      List<String> finish = new ArrayList<>();
      try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(greedyChat(p, 24))) {
        s.stream().forEach(ch -> ch.choices().forEach(ci -> {
          ci.delta().content().ifPresent(streamed::append);
          ci.finishReason().ifPresent(f -> finish.add(f.asString()));
        }));
      }
      assertThat(streamed.toString()).isEqualTo(expected);
      assertThat(finish).hasSize(1).first().isEqualTo(c.choices().get(0).finishReason().asString());
    }
  }

  @Test
  void completionsWithASeedRepeatAndStreamTheSameText() {
    CompletionCreateParams params = CompletionCreateParams.builder().model(NAME).prompt("The capital of France is")
        .maxTokens(12).temperature(1.0).seed(7).n(3).build();
    Completion a = client.completions().create(params);
    Completion b = client.completions().create(params);
    assertThat(a.choices()).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(a.choices().get(i).index()).isEqualTo(i);
      assertThat(b.choices().get(i).text()).isEqualTo(a.choices().get(i).text());
    }
    assertThat(a.choices().stream().map(c -> c.text()).distinct().count()).as("n choices draw apart").isGreaterThan(1);
    assertThat(a.usage().orElseThrow().completionTokens()).isBetween(3L, 36L);

    StringBuilder[] streamed = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
    try (StreamResponse<Completion> s = client.completions().createStreaming(params)) {
      s.stream().forEach(ch -> ch.choices().forEach(ci -> streamed[(int) ci.index()].append(ci.text())));
    }
    for (int i = 0; i < 3; i++) {
      assertThat(streamed[i].toString()).isEqualTo(a.choices().get(i).text());
    }
  }

  @Test
  void aStopStringEndsTheAnswerBeforeIt() {
    String full = client.completions().create(CompletionCreateParams.builder().model(NAME)
        .prompt("Give three tips for staying healthy.").maxTokens(40).temperature(0.0).build()).choices().get(0).text();
    assertThat(full.length()).isGreaterThan(6);
    String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
    Completion c = client.completions().create(CompletionCreateParams.builder().model(NAME)
        .prompt("Give three tips for staying healthy.").maxTokens(40).temperature(0.0).stop(stop).build());
    assertThat(c.choices().get(0).text()).isEqualTo(full.substring(0, full.indexOf(stop)));
    assertThat(c.choices().get(0).finishReason().asString()).isEqualTo("stop");
  }

  @Test
  void sixteenConcurrentRequestsAreAnsweredInOneBatchedRun() throws Exception {
    StringWriter batchLog = new StringWriter();
    try (ServedModel m = ServedModel.open(DEMO, null, 1, dev.rlsr.export.Device.CPU);
         OpenAiServer s = new OpenAiServer(m, new OpenAiServer.Options(NAME, "127.0.0.1", 0, null, 16, 2000,
             1 << 20, 64), new PrintWriter(batchLog, true)).start()) {
      OpenAIClient c = client(s, "unused");
      List<String> alone = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        alone.add(generateGreedy(PROMPTS.get(i % PROMPTS.size()) + " " + i, 16));
      }
      ExecutorService pool = Executors.newFixedThreadPool(16);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<String>> answers = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        String p = PROMPTS.get(i % PROMPTS.size()) + " " + i;
        answers.add(pool.submit(() -> {
          go.await();
          return c.chat().completions().create(greedyChat(p, 16)).choices().get(0).message().content().orElse("");
        }));
      }
      go.countDown();
      for (int i = 0; i < 16; i++) {
        assertThat(answers.get(i).get(120, TimeUnit.SECONDS)).as("request " + i + " batched = alone")
            .isEqualTo(alone.get(i));
      }
      pool.shutdown();
      Matcher batch = Pattern.compile("batch \\d+: (\\d+) rows from (\\d+) requests").matcher(batchLog.toString());
      int most = 0;
      while (batch.find()) {
        most = Math.max(most, Integer.parseInt(batch.group(2)));
      }
      assertThat(most).as(batchLog.toString()).isEqualTo(16);
      assertThat(batchLog.toString()).contains("\"POST /v1/chat/completions\" 200");
    }
  }

  private static HttpResponse<String> raw(String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .header("Content-Type", "application/json");
    HttpRequest r = body == null ? b.GET().build() : b.POST(HttpRequest.BodyPublishers.ofString(body)).build();
    return HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofString());
  }

  private static void assertOpenAiError(HttpResponse<String> r, int status, String param) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonNode e = Json.MAPPER.readTree(r.body()).get("error");
    assertThat(e.get("message").asText()).isNotBlank();
    assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
    if (param != null) {
      assertThat(e.get("param").asText()).isEqualTo(param);
    }
  }

  @Test
  void badRequestsGetTheir4xxAndTheServerGoesOnServing() throws Exception {
    String good = "{\"model\": \"demo\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 4}";
    assertOpenAiError(raw("/v1/chat/completions", "{\"model\": \"demo\", \"messages\": ["), 400, null);
    assertOpenAiError(raw("/v1/chat/completions", good.replace("\"max_tokens\": 4", "\"temperature\": \"hot\"")), 400,
        "temperature");
    assertOpenAiError(raw("/v1/chat/completions", good.replace("\"max_tokens\": 4", "\"max_tokens\": 2.5")), 400,
        "max_tokens");
    assertOpenAiError(raw("/v1/chat/completions", good.replace("\"content\": \"hi\"", "\"content\": 3")), 400,
        "messages[0].content");
    assertOpenAiError(raw("/v1/completions", "{\"model\": \"demo\", \"prompt\": {\"a\": 1}}"), 400, "prompt");
    assertOpenAiError(raw("/v1/completions", "{\"model\": \"demo\", \"prompt\": \"x\", \"n\": 17}"), 400, "n");
    assertOpenAiError(raw("/v1/completions", "{\"model\": \"demo\", \"prompt\": \"x\", \"stop\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}"),
        400, "stop");
    assertOpenAiError(raw("/v1/completions", "[1, 2]"), 400, null);
    assertOpenAiError(raw("/v1/completions", "{\"model\": \"demo\", \"prompt\": \"" + "x".repeat(1 << 20) + "\"}"),
        413, null);
    assertOpenAiError(raw("/v1/nothing", null), 404, null);
    assertOpenAiError(raw("/v1/models", "{}"), 405, null);

    // the same through the official client
    assertThatThrownBy(() -> client.chat().completions().create(ChatCompletionCreateParams.builder().model("gpt-9")
        .addUserMessage("hi").build()))
        .isInstanceOfSatisfying(NotFoundException.class, e -> {
          assertThat(e.statusCode()).isEqualTo(404);
          assertThat(e.code()).contains("model_not_found");
        });
    assertThatThrownBy(() -> client.chat().completions().create(greedyChat("hi", model.contextLength())))
        .isInstanceOfSatisfying(BadRequestException.class, e -> {
          assertThat(e.code()).contains("context_length_exceeded");
          assertThat(e.getMessage()).contains("maximum context length is " + model.contextLength());
        });
    assertThatThrownBy(() -> client.completions().create(CompletionCreateParams.builder().model(NAME)
        .prompt("x".repeat(2000)).maxTokens(1).build()))
        .isInstanceOf(BadRequestException.class);

    var ok = raw("/v1/chat/completions", good);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(client.chat().completions().create(greedyChat("hi", 4)).choices()).hasSize(1);
    assertThat(raw("/health", null).body()).contains("\"ok\"");
  }

  @Test
  void aServerWithAnApiKeyRefusesRequestsWithoutIt() throws Exception {
    try (ServedModel m = ServedModel.open(DEMO, null, 1, dev.rlsr.export.Device.CPU);
         OpenAiServer s = new OpenAiServer(m, new OpenAiServer.Options(NAME, "127.0.0.1", 0, "s3cret", 4, 0, 1 << 20,
             16), new PrintWriter(new StringWriter(), true)).start()) {
      assertThatThrownBy(() -> client(s, "wrong").models().list())
          .isInstanceOfSatisfying(UnauthorizedException.class, e -> assertThat(e.statusCode()).isEqualTo(401));
      assertThatThrownBy(() -> client(s, "wrong").chat().completions().create(greedyChat("hi", 4)))
          .isInstanceOf(UnauthorizedException.class);
      var noKey = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + s.port() + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(noKey.statusCode()).isEqualTo(401);
      assertThat(noKey.body()).contains("invalid_api_key");
      assertThat(client(s, "s3cret").models().list().data()).extracting(x -> x.id()).containsExactly(NAME);
      assertThat(client(s, "s3cret").chat().completions().create(greedyChat("hi", 4)).choices()).hasSize(1);
      var health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + s.port() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).as("/health needs no key").isEqualTo(200);
    }
  }

  @Test
  void compareJudgesThroughTheServer() throws Exception {
    Path a = tmp.resolve("a.jsonl");
    Path b = tmp.resolve("b.jsonl");
    Files.writeString(a, "{\"prompt\": \"Name a colour\", \"reference\": \"red\", \"response\": \"red\", \"judge_reward\": 0.9}\n"
        + "{\"prompt\": \"2 + 2?\", \"reference\": \"4\", \"response\": \"4\", \"judge_reward\": 0.8}\n");
    Files.writeString(b, "{\"prompt\": \"Name a colour\", \"reference\": \"red\", \"response\": \"a dog\", \"judge_reward\": 0.1}\n"
        + "{\"prompt\": \"2 + 2?\", \"reference\": \"4\", \"response\": \"5\", \"judge_reward\": 0.2}\n");
    var r = Cli.run("compare", a.toString(), b.toString(), "--judge-url", "http://127.0.0.1:" + server.port() + "/v1",
        "--judge-model", NAME, "--judge-cache", tmp.resolve("cache.jsonl").toString());
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    assertThat(Files.readAllLines(tmp.resolve("cache.jsonl"))).hasSize(2);
  }

  @Test
  void theCommandServesUntilSigterm() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "dev.rlsr.cli.Main", "serve",
        "--model", DEMO.toString(), "--port", "0", "--threads", "1", "--served-model-name", NAME)
        .redirectError(tmp.resolve("err.log").toFile()).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertThat(line).as(Files.exists(tmp.resolve("err.log")) ? Files.readString(tmp.resolve("err.log")) : "")
          .isNotNull().contains("http://127.0.0.1:");
      Matcher m = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/v1").matcher(line);
      assertThat(m.find()).isTrue();
      String base = "http://127.0.0.1:" + m.group(1);
      var health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      OpenAIClient c = OpenAIOkHttpClient.builder().baseUrl(base + "/v1").apiKey("x").maxRetries(0).build();
      assertThat(c.chat().completions().create(greedyChat("hi", 4)).choices()).hasSize(1);
      p.destroy(); // SIGTERM
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String err = Files.readString(tmp.resolve("err.log"));
      assertThat(err).contains("\"GET /health\" 200").contains("\"POST /v1/chat/completions\" 200")
          .contains("rlsr serve: stopped");
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void servesEveryDtypeOfAnExport() throws Exception {
    Path out = tmp.resolve("export");
    var e = Cli.run("export", "--model", DEMO.toString(), "--out", out.toString(), "--format", "onnx", "--dtype", "all");
    assertThat(e.code()).as(e.err()).isZero();
    String expected = client.chat().completions().create(greedyChat(PROMPTS.get(0), 12)).choices().get(0).message()
        .content().orElse("");
    for (String d : List.of("fp32", "fp16", "q8", "q4")) {
      try (ServedModel m = ServedModel.open(out, dev.rlsr.export.ExportDtype.valueOf(d.toUpperCase()), 1,
          dev.rlsr.export.Device.CPU);
           OpenAiServer s = new OpenAiServer(m, new OpenAiServer.Options(NAME, "127.0.0.1", 0, null, 4, 0, 1 << 20, 16),
               new PrintWriter(new StringWriter(), true)).start()) {
        String got = client(s, "x").chat().completions().create(greedyChat(PROMPTS.get(0), 12)).choices().get(0)
            .message().content().orElse("");
        assertThat(got).as(d).isNotEmpty();
        if (d.equals("fp32")) {
          assertThat(got).isEqualTo(expected);
        }
      }
    }
    assertThatThrownBy(() -> ServedModel.open(tmp.resolve("nothing-here"), null, 1, dev.rlsr.export.Device.CPU))
        .hasMessageContaining("model directory not found");
  }

}
