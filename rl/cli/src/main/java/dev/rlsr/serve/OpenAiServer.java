// The OpenAI-compatible HTTP API of `rlsr serve` on Javalin (Jetty 12): /v1/models, /v1/completions,
// /v1/chat/completions with server-sent-event streaming, /health, bearer-token auth, an access-log line per request.
package dev.rlsr.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.StrictJson;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Answers requests with {@link ServedModel} through a {@link BatchScheduler}. Every refusal is OpenAI's error JSON
 * with a 4xx status (400 bad field or JSON, 401 key, 404 unknown model or path, 405 method, 413 body too large,
 * 503 shutting down), and the server goes on serving. A request's n choices (times its prompts) are one batch
 * entry, so they must fit in {@code --max-batch-size}.
 *
 * <p>Defaults: {@code max_tokens} absent is {@link Options#defaultMaxTokens} or what is left of the context,
 * whichever is less; {@code seed} absent is drawn at random; with a seed, choice i of a request draws from seed + i,
 * so a request with the same seed repeats whatever else is in its batch.
 */
public final class OpenAiServer implements AutoCloseable {
  /**
   * @param modelName        the id clients send as {@code model} and {@code /v1/models} lists
   * @param host             address to bind (127.0.0.1 unless told otherwise)
   * @param port             TCP port (0: any free one, see {@link #port})
   * @param apiKey           bearer token every /v1 request must carry, or null for none
   * @param maxBatchSize     rows decoded together at most (and the largest n times prompts of one request)
   * @param batchWaitMillis  how long the first request of a batch waits for others
   * @param maxBodyBytes     largest request body accepted (413 beyond)
   * @param defaultMaxTokens new tokens when a request gives no max_tokens (cut to what the context leaves)
   */
  public record Options(String modelName, String host, int port, String apiKey, int maxBatchSize, long batchWaitMillis,
      long maxBodyBytes, int defaultMaxTokens) {}

  private static final String JSON = "application/json";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ServedModel model;
  private final Options o;
  private final PrintWriter log;
  private final BatchScheduler scheduler;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final long created = System.currentTimeMillis() / 1000;
  private Javalin app;

  public OpenAiServer(ServedModel model, Options o, PrintWriter log) {
    this.model = model;
    this.o = o;
    this.log = log;
    this.scheduler = new BatchScheduler(model.engine(), o.maxBatchSize(), o.batchWaitMillis(), log);
  }

  /** Binds and starts serving; returns once the port is open. */
  public OpenAiServer start() {
    app = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      c.http.maxRequestSize = o.maxBodyBytes();
      c.http.prefer405over404 = true;
      c.http.compressionStrategy = CompressionStrategy.NONE; // event streams must reach the client as written
      c.jetty.host = o.host();
      c.jetty.port = o.port();
      c.requestLogger.http((ctx, ms) -> log.printf("%s \"%s %s\" %d %.0f ms%n", ctx.ip(), ctx.method(), ctx.path(),
          ctx.statusCode(), ms));
      c.routes.get("/health", this::health);
      c.routes.get("/v1/models", guarded(this::models));
      c.routes.get("/v1/models/{id}", guarded(this::oneModel));
      c.routes.post("/v1/completions", guarded(ctx -> complete(ctx, false)));
      c.routes.post("/v1/chat/completions", guarded(ctx -> complete(ctx, true)));
      c.routes.exception(ApiError.class, (e, ctx) -> error(ctx, e));
      c.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx,
          new ApiError(e.getStatus(), e.getStatus() == 413 ? "the request body is larger than the server takes ("
              + o.maxBodyBytes() + " bytes, --max-body-bytes)" : e.getMessage(), null, null)));
      c.routes.exception(Exception.class, (e, ctx) -> error(ctx, new ApiError(500,
          "the server failed on this request: " + e, null, null)));
      c.routes.error(404, ctx -> {
        if (ctx.result() == null) {
          error(ctx, new ApiError(404, "no route " + ctx.method() + " " + ctx.path() + " (rlsr serve has GET "
              + "/v1/models, POST /v1/completions, POST /v1/chat/completions, GET /health)", null, null));
        }
      });
      c.routes.error(405, ctx -> error(ctx, new ApiError(405, "method " + ctx.method() + " is not allowed on "
          + ctx.path(), null, null)));
    });
    app.start();
    return this;
  }

  /** The bound port. */
  public int port() {
    return app.port();
  }

  public String modelName() {
    return o.modelName();
  }

  public BatchScheduler scheduler() {
    return scheduler;
  }

  private Handler guarded(Handler h) {
    return ctx -> {
      if (draining.get()) {
        throw new ApiError(503, "the server is shutting down", null, null);
      }
      if (o.apiKey() != null) {
        String auth = ctx.header("Authorization");
        String want = "Bearer " + o.apiKey();
        if (auth == null || !MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8),
            want.getBytes(StandardCharsets.UTF_8))) {
          throw new ApiError(401, auth == null ? "missing API key: send it as 'Authorization: Bearer KEY'"
              : "incorrect API key provided", null, "invalid_api_key");
        }
      }
      inFlight.incrementAndGet();
      try {
        h.handle(ctx);
      } finally {
        inFlight.decrementAndGet();
      }
    };
  }

  private void health(Context ctx) {
    ObjectNode h = Json.MAPPER.createObjectNode();
    h.put("status", draining.get() ? "shutting_down" : "ok");
    h.put("model", o.modelName());
    h.put("batches", scheduler.batches());
    json(ctx.status(draining.get() ? 503 : 200), h);
  }

  private void models(Context ctx) {
    ObjectNode list = Json.MAPPER.createObjectNode();
    list.put("object", "list");
    list.putArray("data").add(modelCard());
    json(ctx, list);
  }

  private void oneModel(Context ctx) {
    if (!ctx.pathParam("id").equals(o.modelName())) {
      throw unknownModel(ctx.pathParam("id"));
    }
    json(ctx, modelCard());
  }

  private ObjectNode modelCard() {
    ObjectNode m = Json.MAPPER.createObjectNode();
    m.put("id", o.modelName());
    m.put("object", "model");
    m.put("created", created);
    m.put("owned_by", "rlsr");
    m.put("max_model_len", model.contextLength());
    return m;
  }

  private ApiError unknownModel(String name) {
    return new ApiError(404, "The model '" + name + "' does not exist; this server serves '" + o.modelName() + "'",
        "model", "model_not_found");
  }

  /** One choice being decoded: its text, and the events its row sends to the request's thread. */
  private record Event(int choice, String text, Rollout done, RuntimeException failed) {}

  private void complete(Context ctx, boolean chat) throws Exception {
    long length = ctx.contentLength();
    if (length > o.maxBodyBytes()) {
      throw new ApiError(413, "the request body is larger than the server takes (" + o.maxBodyBytes()
          + " bytes, --max-body-bytes)", null, null);
    }
    JsonNode body;
    try {
      body = Json.MAPPER.readTree(ctx.bodyAsBytes());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new ApiError(400, "the request body is not valid JSON: " + StrictJson.describe(e), null, null);
    }
    CompletionRequest r = CompletionRequest.parse(body, chat, o.maxBatchSize());
    if (!r.model().equals(o.modelName())) {
      throw unknownModel(r.model());
    }
    List<int[]> prompts = new ArrayList<>();
    for (int i = 0; i < r.prompts(); i++) {
      int[] p = chat ? model.chatPrompt(r.chats().get(0))
          : r.tokenPrompts().get(i) != null ? r.tokenPrompts().get(i) : model.textPrompt(r.texts().get(i));
      String field = chat ? "messages" : "prompt";
      if (p.length == 0) {
        throw ApiError.badField(field, "the " + field + " encodes to no tokens");
      }
      for (int id : p) {
        if (id >= model.config().vocabSize()) {
          throw ApiError.badField(field, "token id " + id + " is outside the vocabulary (" + model.config().vocabSize()
              + ")");
        }
      }
      prompts.add(p);
    }
    int rows = prompts.size() * r.n();
    if (rows > o.maxBatchSize()) {
      throw ApiError.badField("n", "this request asks for " + rows + " choices (" + prompts.size() + " prompts x n "
          + r.n() + "); the server decodes at most " + o.maxBatchSize() + " at once (--max-batch-size)");
    }
    int[] maxNew = new int[prompts.size()];
    for (int i = 0; i < prompts.size(); i++) {
      maxNew[i] = maxNewTokens(r, prompts.get(i).length, chat);
    }

    String id = (chat ? "chatcmpl-" : "cmpl-") + HexFormat.of().formatHex(RANDOM.generateSeed(12));
    long seed = r.seed() != null ? r.seed() : RANDOM.nextLong();
    BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    AtomicBoolean cancelled = new AtomicBoolean();
    List<BatchScheduler.Row> batchRows = new ArrayList<>();
    List<TextStream> texts = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      for (int j = 0; j < r.n(); j++) {
        int choice = i * r.n() + j;
        TextStream ts = new TextStream(model.tokenizer(), r.stop(), r.stream());
        texts.add(ts);
        SamplingOptions so = r.temperature() == 0
            ? SamplingOptions.greedy(maxNew[i], model.eosIds(), model.tokenizer().padId())
            : new SamplingOptions(maxNew[i], r.temperature(), 0, r.topP(), false, seed + j, model.eosIds(),
                model.tokenizer().padId());
        batchRows.add(new BatchScheduler.Row(prompts.get(i), so, new BatchScheduler.RowSink() {
          @Override
          public boolean onToken(int token) {
            String piece = ts.add(token);
            if (r.stream() && !piece.isEmpty()) {
              events.add(new Event(choice, piece, null, null));
            }
            return !ts.stopped() && !cancelled.get();
          }

          @Override
          public void onFinish(Rollout rollout) {
            // whole answers are decoded on the request's thread (text()), after the queue's hand-over
            events.add(new Event(choice, r.stream() ? ts.rest() : "", rollout, null));
          }

          @Override
          public void onFail(RuntimeException e) {
            events.add(new Event(choice, "", null, e));
          }
        }));
      }
    }
    int promptTokens = prompts.stream().mapToInt(p -> p.length).sum();
    scheduler.submit(batchRows);
    if (r.stream()) {
      stream(ctx, r, id, events, texts, cancelled, promptTokens);
    } else {
      whole(ctx, r, id, events, texts, promptTokens);
    }
  }

  private int maxNewTokens(CompletionRequest r, int promptLen, boolean chat) {
    int context = model.contextLength();
    String field = chat ? "messages" : "prompt";
    if (r.maxTokens() != null) {
      if ((long) promptLen + r.maxTokens() > context) {
        throw new ApiError(400, "This model's maximum context length is " + context + " tokens. However, you "
            + "requested " + ((long) promptLen + r.maxTokens()) + " tokens (" + promptLen + " in the " + field + ", "
            + r.maxTokens() + " in the completion). Please reduce the length of the " + field + " or completion.",
            field, "context_length_exceeded");
      }
      return r.maxTokens();
    }
    if (promptLen >= context) {
      throw new ApiError(400, "This model's maximum context length is " + context + " tokens. However, your "
          + field + " resulted in " + promptLen + " tokens, leaving none for the completion.", field,
          "context_length_exceeded");
    }
    return Math.min(o.defaultMaxTokens(), context - promptLen);
  }

  private static String finishReason(Rollout rollout, TextStream ts) {
    return rollout.finishedByEos() || ts.stopped() ? "stop" : "length";
  }

  private void whole(Context ctx, CompletionRequest r, String id, BlockingQueue<Event> events, List<TextStream> texts,
      int promptTokens) throws InterruptedException {
    Rollout[] done = new Rollout[texts.size()];
    int left = texts.size();
    while (left > 0) {
      Event e = events.take();
      if (e.failed() != null) {
        throw failure(e.failed());
      }
      if (e.done() != null) {
        done[e.choice()] = e.done();
        left--;
      }
    }
    ObjectNode resp = head(id, r.chat() ? "chat.completion" : "text_completion");
    ArrayNode choices = resp.putArray("choices");
    int completionTokens = 0;
    for (int i = 0; i < done.length; i++) {
      ObjectNode c = choices.addObject();
      c.put("index", i);
      if (r.chat()) {
        ObjectNode m = c.putObject("message");
        m.put("role", "assistant");
        m.put("content", texts.get(i).text());
        m.putNull("refusal");
      } else {
        c.put("text", texts.get(i).text());
      }
      c.putNull("logprobs");
      c.put("finish_reason", finishReason(done[i], texts.get(i)));
      completionTokens += done[i].tokens().length;
    }
    resp.set("usage", usage(promptTokens, completionTokens));
    json(ctx, resp);
  }

  private void stream(Context ctx, CompletionRequest r, String id, BlockingQueue<Event> events,
      List<TextStream> texts, AtomicBoolean cancelled, int promptTokens) throws InterruptedException {
    ctx.status(200);
    ctx.contentType("text/event-stream");
    ctx.header("Cache-Control", "no-cache");
    String object = r.chat() ? "chat.completion.chunk" : "text_completion";
    try {
      OutputStream out = ctx.res().getOutputStream();
      if (r.chat()) {
        for (int i = 0; i < texts.size(); i++) {     // the first chunk of each choice names the role
          ObjectNode chunk = head(id, object);
          ObjectNode c = chunk.putArray("choices").addObject();
          c.put("index", i);
          c.putObject("delta").put("role", "assistant").put("content", "");
          c.putNull("logprobs");
          c.putNull("finish_reason");
          send(out, chunk);
        }
      }
      int left = texts.size();
      int completionTokens = 0;
      while (left > 0) {
        Event e = events.take();
        if (e.failed() != null) {
          ObjectNode err = failure(e.failed()).body();
          send(out, err);
          break;
        }
        ObjectNode chunk = head(id, object);
        ObjectNode c = chunk.putArray("choices").addObject();
        c.put("index", e.choice());
        if (r.chat()) {
          ObjectNode delta = c.putObject("delta");
          if (!e.text().isEmpty()) {
            delta.put("content", e.text());
          }
        } else {
          c.put("text", e.text());
        }
        c.putNull("logprobs");
        if (e.done() != null) {
          c.put("finish_reason", finishReason(e.done(), texts.get(e.choice())));
          completionTokens += e.done().tokens().length;
          left--;
          if (left == 0) {                             // usage in every response: on the last choice's last chunk
            chunk.set("usage", usage(promptTokens, completionTokens));
          }
        } else {
          c.putNull("finish_reason");
        }
        if (e.done() != null || !e.text().isEmpty()) {
          send(out, chunk);
        }
        if (left == 0 && r.includeUsage()) {           // OpenAI's own usage chunk, choices empty
          ObjectNode u = head(id, object);
          u.putArray("choices");
          u.set("usage", usage(promptTokens, completionTokens));
          send(out, u);
        }
      }
      out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException gone) {
      cancelled.set(true);                              // the client went away: its rows stop at the next token
      drain(events, texts.size());
    }
  }

  /** Waits (bounded) for a cancelled request's rows to end, so its in-flight count stays true. */
  private static void drain(BlockingQueue<Event> events, int rows) throws InterruptedException {
    int left = rows;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (left > 0 && System.nanoTime() < deadline) {
      Event e = events.poll(1, TimeUnit.SECONDS);
      if (e != null && (e.done() != null || e.failed() != null)) {
        left--;
      }
    }
  }

  private static ApiError failure(RuntimeException e) {
    return e instanceof ApiError a ? a : new ApiError(500, "decoding failed: " + e.getMessage(), null, null);
  }

  private ObjectNode head(String id, String object) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("id", id);
    n.put("object", object);
    n.put("created", System.currentTimeMillis() / 1000);
    n.put("model", o.modelName());
    return n;
  }

  private static ObjectNode usage(int prompt, int completion) {
    ObjectNode u = Json.MAPPER.createObjectNode();
    u.put("prompt_tokens", prompt);
    u.put("completion_tokens", completion);
    u.put("total_tokens", prompt + completion);
    return u;
  }

  private static void send(OutputStream out, JsonNode chunk) throws IOException {
    out.write(("data: " + Json.MAPPER.writeValueAsString(chunk) + "\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private static void json(Context ctx, JsonNode body) {
    try {
      ctx.contentType(JSON).result(Json.MAPPER.writeValueAsString(body));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void error(Context ctx, ApiError e) {
    ctx.status(e.status);
    json(ctx, e.body());
  }

  /**
   * Stops taking requests (503 from now on), lets those in flight finish (up to {@code timeoutMillis}), then stops
   * the HTTP server and the decoding thread.
   */
  public void shutdown(long timeoutMillis) {
    draining.set(true);
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (inFlight.get() > 0 && System.currentTimeMillis() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    scheduler.close(Math.max(0, deadline - System.currentTimeMillis()));
    if (app != null) {
      app.stop();
    }
  }

  @Override
  public void close() {
    shutdown(30_000);
  }
}
