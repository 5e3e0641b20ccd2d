// Pairwise judging by an LLM behind an OpenAI-compatible /v1/chat/completions endpoint, AlpacaEval style: the
// judge sees the instruction, the reference and two outputs and names the better one; the order is randomized.
// Each request has a whole-request deadline and a reply-size cap, transient failures are retried with backoff,
// and text from the server is stripped of control characters before it is printed or stored.
package dev.rlsr.rl.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One chat-completions request per pair (temperature 0, at most {@link #MAX_TOKENS} tokens). The verdict is the
 * first standalone letter A or B in the reply; anything else is {@link Verdict#INVALID}. Which system's output is
 * shown as "Output (A)" is drawn per pair from a seeded generator, cancelling the judge's position bias on average.
 *
 * <p>Every request must be answered in full (connect, send, status, headers and the whole body) within
 * {@link Options#timeout}, however slowly the server sends; a reply over {@link Options#maxReplyBytes} is refused.
 * HTTP 429 and 5xx replies and connection failures (refused, reset, connect timeout) are retried up to
 * {@link Options#retries} times, waiting {@link Options#backoff} doubled on each retry (at most
 * {@link #MAX_BACKOFF}) or as long as the server's {@code Retry-After} asks when that is at most
 * {@link #MAX_RETRY_AFTER}. A request that ran out of its deadline, an unknown host, other HTTP errors and replies
 * that are not chat completions fail at once.
 */
public final class LlmJudge {
  public enum Verdict { FIRST, SECOND, INVALID }

  /** Tokens the judge may answer with (a letter, perhaps a short explanation). */
  public static final int MAX_TOKENS = 8;

  /** Largest reply accepted (a chat completion of {@link #MAX_TOKENS} tokens is well under 1 KiB). */
  public static final long MAX_REPLY_BYTES = 1L << 20;

  /** Bytes of an HTTP error's body read for the error message. */
  static final int ERROR_BODY_BYTES = 4096;

  /** Longest wait between two attempts from the exponential backoff. */
  public static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  /** Longest {@code Retry-After} honoured; a server asking for more fails the request at once. */
  public static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(60);

  /** Connect timeout when the whole-request deadline is longer. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  static final String SYSTEM = "You are a careful evaluator of instruction-following. Compare two outputs for the"
      + " same instruction and decide which one follows the instruction better and agrees better with the"
      + " reference answer. Answer with a single letter: A or B.";

  private static final Pattern LETTER = Pattern.compile("\\b([AB])\\b");

  /**
   * @param timeout       whole-request deadline of one attempt
   * @param retries       further attempts after a transient failure
   * @param backoff       wait before the first retry, doubled on each further one
   * @param maxReplyBytes largest reply body accepted
   */
  public record Options(Duration timeout, int retries, Duration backoff, long maxReplyBytes) {
    public static Options defaults(Duration timeout) {
      return new Options(timeout, 4, Duration.ofSeconds(1), MAX_REPLY_BYTES);
    }
  }

  /** A failed {@link #compare}: the cause's message and the judgments counted before it. */
  public static final class Failed extends RlsrException {
    private final transient WinRate partial;
    private final int total;
    private final int cached;

    Failed(String message, WinRate partial, int total, int cached, Throwable cause) {
      super(message, cause);
      this.partial = partial;
      this.total = total;
      this.cached = cached;
    }

    /** Pairs judged before the failure (including those read from the cache). */
    public WinRate partial() {
      return partial;
    }

    /** Pairs in the comparison. */
    public int total() {
      return total;
    }

    /** Pairs of {@link #partial} read from the cache rather than asked in this run. */
    public int cached() {
      return cached;
    }
  }

  /** A finished {@link #compare}; {@code cached} of the pairs were read from the cache, not asked. */
  public record Result(WinRate winRate, int cached) {}

  private final URI endpoint;
  /** Start of every error message: "--judge-url " and the endpoint. */
  private final String label;
  private final String model;
  private final String apiKey;
  private final Options opts;
  private final HttpClient http;

  /**
   * @param url    the server's base URL ({@code http://host:port}), its {@code /v1}, or the full
   *               {@code .../chat/completions} URL
   * @param model  value of the request's {@code model} field
   * @param apiKey sent as {@code Authorization: Bearer} when not null
   */
  public LlmJudge(String url, String model, String apiKey, Options opts) {
    if (opts.timeout().isNegative() || opts.timeout().isZero() || opts.retries() < 0 || opts.backoff().isNegative()
        || opts.maxReplyBytes() < 1) {
      throw new IllegalArgumentException("bad judge options " + opts);
    }
    this.endpoint = endpoint(url);
    this.label = "--judge-url " + endpoint;
    this.model = model;
    this.apiKey = apiKey;
    this.opts = opts;
    Duration connect = opts.timeout().compareTo(CONNECT_TIMEOUT) < 0 ? opts.timeout() : CONNECT_TIMEOUT;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connect).build();
  }

  /** With {@link Options#defaults}. */
  public LlmJudge(String url, String model, String apiKey, Duration timeout) {
    this(url, model, apiKey, Options.defaults(timeout));
  }

  static URI endpoint(String url) {
    String u = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    if (!u.endsWith("/chat/completions")) {
      u = u.endsWith("/v1") ? u + "/chat/completions" : u + "/v1/chat/completions";
    }
    try {
      URI uri = URI.create(u);
      if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
          || uri.getHost() == null) {
        throw new IllegalArgumentException("not http(s)");
      }
      return uri;
    } catch (IllegalArgumentException e) {
      throw new RlsrException("--judge-url " + clean(url) + ": not an http(s) URL (e.g. http://127.0.0.1:8000/v1)");
    }
  }

  public URI endpoint() {
    return endpoint;
  }

  /** The user message: instruction, reference and the two outputs in the order shown. */
  static String userMessage(String instruction, String reference, String first, String second) {
    return "## Instruction\n" + instruction + "\n\n## Reference answer\n" + reference + "\n\n## Output (A)\n" + first
        + "\n\n## Output (B)\n" + second + "\n\nWhich output is better, A or B? Answer with one letter.";
  }

  /** Cache key of one question to this judge: a hash of the endpoint, the model and both messages. */
  String key(String userMessage) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (String s : new String[] {endpoint.toString(), model, SYSTEM, userMessage}) {
        d.update(s.getBytes(StandardCharsets.UTF_8));
        d.update((byte) 0);
      }
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Asks the judge about one pair shown in this order. */
  public Verdict judge(String instruction, String reference, String first, String second) {
    return parse(ask(userMessage(instruction, reference, first, second)));
  }

  /** The judge's reply to one question, without control characters. */
  String ask(String user) {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("model", model);
    var messages = body.putArray("messages");
    messages.addObject().put("role", "system").put("content", SYSTEM);
    messages.addObject().put("role", "user").put("content", user);
    body.put("temperature", 0);
    body.put("max_tokens", MAX_TOKENS);
    HttpRequest.Builder req = HttpRequest.newBuilder(endpoint)
        .timeout(opts.timeout())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
    if (apiKey != null) {
      req.header("Authorization", "Bearer " + apiKey);
    }
    HttpRequest request = req.build();
    for (int attempt = 1; ; attempt++) {
      Attempt a = once(request);
      if (a.reply != null) {
        return a.reply;
      }
      Duration wait = backoff(attempt);
      if (a.retryAfter != null) {
        if (a.retryAfter.compareTo(MAX_RETRY_AFTER) > 0) {
          throw new RlsrException(clean(a.error + "; the server asks to retry after " + a.retryAfter.toSeconds()
              + " s (re-run later)"));
        }
        wait = a.retryAfter.compareTo(wait) > 0 ? a.retryAfter : wait;
      }
      if (!a.retry || attempt > opts.retries()) {
        String tries = a.retry && attempt > 1 ? " (gave up after " + attempt + " attempts, --judge-retries "
            + opts.retries() + ")" : "";
        throw new RlsrException(clean(a.error + tries));
      }
      try {
        Thread.sleep(wait.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RlsrException(label + ": interrupted");
      }
    }
  }

  /** Wait before retry number {@code retry} (1-based): backoff * 2^(retry-1), at most {@link #MAX_BACKOFF}. */
  Duration backoff(int retry) {
    long ms = opts.backoff().toMillis();
    for (int i = 1; i < retry && ms < MAX_BACKOFF.toMillis(); i++) {
      ms *= 2;
    }
    return Duration.ofMillis(Math.min(ms, MAX_BACKOFF.toMillis()));
  }

  /** One attempt: the reply text, or an error that may be retried (after {@code retryAfter} if the server said). */
  private record Attempt(String reply, String error, boolean retry, Duration retryAfter) {
    static Attempt ok(String reply) {
      return new Attempt(reply, null, false, null);
    }

    static Attempt fail(String error, boolean retry) {
      return new Attempt(null, error, retry, null);
    }
  }

  private Attempt once(HttpRequest request) {
    AtomicReference<CappedBody> bodyRef = new AtomicReference<>();
    CompletableFuture<HttpResponse<byte[]>> f = http.sendAsync(request, info -> {
      boolean ok = info.statusCode() / 100 == 2;
      long declared = info.headers().firstValueAsLong("Content-Length").orElse(-1);
      CappedBody b = new CappedBody(ok ? opts.maxReplyBytes() : ERROR_BODY_BYTES, !ok, ok ? declared : -1);
      bodyRef.set(b);
      return b;
    });
    HttpResponse<byte[]> resp;
    try {
      resp = f.get(opts.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      abort(f, bodyRef);
      return Attempt.fail(label + ": no complete reply within " + seconds(opts.timeout()) + " (--judge-timeout)",
          false);
    } catch (InterruptedException e) {
      abort(f, bodyRef);
      Thread.currentThread().interrupt();
      throw new RlsrException(label + ": interrupted");
    } catch (ExecutionException e) {
      abort(f, bodyRef);
      return failure(e.getCause());
    }
    int status = resp.statusCode();
    String text = new String(resp.body(), StandardCharsets.UTF_8);
    if (status / 100 != 2) {
      String snippet = snippet(text, 200);
      String msg = label + ": HTTP " + status + (snippet.isEmpty() ? "" : ": " + snippet);
      boolean retry = status == 429 || status / 100 == 5;
      Duration after = retry ? retryAfter(resp.headers().firstValue("Retry-After")) : null;
      return new Attempt(null, msg, retry, after);
    }
    JsonNode reply;
    try {
      reply = Json.MAPPER.readTree(text);
    } catch (IOException e) {
      reply = null;
    }
    if (reply == null || reply.isMissingNode()) {
      return Attempt.fail(label + ": reply is not JSON: " + snippet(text, 200), false);
    }
    JsonNode content = reply.path("choices").path(0).path("message").path("content");
    if (!content.isTextual()) {
      return Attempt.fail(label + ": reply has no choices[0].message.content (is this an OpenAI-compatible"
          + " chat-completions endpoint?): " + snippet(text, 200), false);
    }
    return Attempt.ok(clean(content.asText()));
  }

  private static void abort(CompletableFuture<?> f, AtomicReference<CappedBody> body) {
    f.cancel(true);
    CappedBody b = body.get();
    if (b != null) {
      b.cancel();
    }
  }

  /** The message for a request that ended in an exception, and whether to retry. */
  private Attempt failure(Throwable t) {
    String where = "--judge-url: cannot connect to " + endpoint;
    if (has(t, TooLarge.class) != null) {
      return Attempt.fail(label + ": reply larger than " + bytes(opts.maxReplyBytes()) + " (not a chat"
          + " completion?)", false);
    }
    if (has(t, UnresolvedAddressException.class) != null || has(t, UnknownHostException.class) != null) {
      return Attempt.fail(where + ": unknown host " + endpoint.getHost() + " (DNS lookup failed)", false);
    }
    if (has(t, HttpConnectTimeoutException.class) != null) {
      return Attempt.fail(where + ": connect timed out", true);
    }
    if (has(t, HttpTimeoutException.class) != null) {
      return Attempt.fail(label + ": no complete reply within " + seconds(opts.timeout()) + " (--judge-timeout)",
          false);
    }
    if (has(t, ConnectException.class) != null) {
      return Attempt.fail(where + ": " + connectProblem(), true);
    }
    String detail = detail(t);
    return Attempt.fail(label + ": connection failed" + (detail.isEmpty() ? "" : ": " + detail), true);
  }

  /**
   * Why a connect failed, as the OS says it. The HTTP client reports a refused connection as a ConnectException
   * without a message, so this connects once more with a plain socket to learn the reason.
   */
  private String connectProblem() {
    int port = endpoint.getPort() >= 0 ? endpoint.getPort() : endpoint.getScheme().equals("https") ? 443 : 80;
    try (Socket s = new Socket()) {
      int ms = (int) Math.min(CONNECT_TIMEOUT.toMillis(), Math.max(1, opts.timeout().toMillis()));
      s.connect(new InetSocketAddress(endpoint.getHost(), port), ms);
      return "connection failed";
    } catch (UnknownHostException e) {
      return "unknown host " + endpoint.getHost() + " (DNS lookup failed)";
    } catch (IOException e) {
      String m = e.getMessage();
      if (m == null || m.isBlank()) {
        return "connection failed";
      }
      m = m.toLowerCase(Locale.ROOT);
      int paren = m.indexOf(" (");
      return paren > 0 ? m.substring(0, paren) : m;
    }
  }

  private static <T extends Throwable> T has(Throwable t, Class<T> type) {
    for (int depth = 0; t != null && depth < 10; t = t.getCause(), depth++) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  /** The first non-empty message in the cause chain, else the innermost exception's simple name. */
  private static String detail(Throwable t) {
    String last = "";
    for (int depth = 0; t != null && depth < 10; t = t.getCause(), depth++) {
      if (t.getMessage() != null && !t.getMessage().isBlank() && !(t instanceof ExecutionException)) {
        return t.getMessage();
      }
      last = t.getClass().getSimpleName();
    }
    return last;
  }

  /** Retry-After as delta-seconds or an HTTP date; null when absent or unreadable. */
  static Duration retryAfter(Optional<String> header) {
    if (header.isEmpty()) {
      return null;
    }
    String v = header.get().strip();
    try {
      long s = Long.parseLong(v);
      return s < 0 ? null : Duration.ofSeconds(s);
    } catch (NumberFormatException e) {
      // an HTTP date
    }
    try {
      Duration d = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME));
      return d.isNegative() ? Duration.ZERO : d;
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static String seconds(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + " s" : String.format(Locale.ROOT, "%.3g s", ms / 1000.0);
  }

  private static String bytes(long n) {
    if (n % (1 << 20) == 0) {
      return n / (1 << 20) + " MiB";
    }
    return n % 1024 == 0 ? n / 1024 + " KiB" : n + " bytes";
  }

  /**
   * {@code s} without terminal escape sequences and control characters: CSI sequences ({@code ESC [} or C1 CSI up
   * to the final byte), OSC/DCS/APC/PM strings (up to BEL or ST), other two-character ESC sequences, and then every
   * remaining C0 (except newline and tab), DEL and C1 character. Everything printed or stored from the server goes
   * through this.
   */
  public static String clean(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    int n = s.length();
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      char next = i + 1 < n ? s.charAt(i + 1) : 0;
      if (c == 0x1b && next == '[' || c == 0x9b) {
        i += c == 0x9b ? 1 : 2;
        while (i < n && s.charAt(i) >= 0x20 && s.charAt(i) <= 0x3f) {
          i++; // parameter and intermediate bytes
        }
        if (i < n && s.charAt(i) >= 0x40 && s.charAt(i) <= 0x7e) {
          i++; // final byte
        }
      } else if (c == 0x1b && (next == ']' || next == 'P' || next == '_' || next == '^')
          || c == 0x9d || c == 0x90 || c == 0x9f || c == 0x9e) {
        i += c == 0x1b ? 2 : 1;
        while (i < n) {
          char d = s.charAt(i);
          if (d == 0x07 || d == 0x9c) {
            i++;
            break;
          }
          if (d == 0x1b && i + 1 < n && s.charAt(i + 1) == '\\') {
            i += 2;
            break;
          }
          i++;
        }
      } else if (c == 0x1b) {
        i += next >= 0x20 && next <= 0x7e ? 2 : 1;
      } else if ((c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7f && c <= 0x9f)) {
        i++;
      } else {
        sb.append(c);
        i++;
      }
    }
    return sb.toString();
  }

  /** A one-line, cleaned, at most {@code max}-character excerpt of {@code s}. */
  static String snippet(String s, int max) {
    String one = clean(s).replaceAll("\\s+", " ").strip();
    return one.length() <= max ? one : one.substring(0, max - 3) + "...";
  }

  /** The first standalone A or B (case-sensitive, so the article "a" is not read as a verdict). */
  static Verdict parse(String content) {
    Matcher m = LETTER.matcher(content);
    if (!m.find()) {
      return Verdict.INVALID;
    }
    return m.group(1).equals("A") ? Verdict.FIRST : Verdict.SECOND;
  }

  /**
   * Judges every pair, showing A's response first or second as a seeded coin decides, and counts A's wins. With a
   * cache, pairs it already holds are not asked and each new judgment is appended to it as it arrives.
   *
   * @param referenceField the rows' reference field
   * @param responseField  the rows' response field
   * @param cache          judgments kept across runs, or null
   * @throws Failed when a request fails, with the judgments counted up to then
   */
  public Result compare(EvalRows.Pairs pairs, String referenceField, String responseField, long seed,
      JudgeCache cache) {
    SplittableRandom rng = new SplittableRandom(seed);
    int w = 0;
    int l = 0;
    int t = 0;
    int invalid = 0;
    int cached = 0;
    int total = pairs.a().size();
    for (int i = 0; i < total; i++) {
      EvalRows.Row a = pairs.a().get(i);
      EvalRows.Row b = pairs.b().get(i);
      boolean aFirst = rng.nextBoolean();
      String ra = a.text(responseField);
      String rb = b.text(responseField);
      String user = userMessage(a.text("prompt"), a.text(referenceField), aFirst ? ra : rb, aFirst ? rb : ra);
      String key = key(user);
      Verdict v = cache == null ? null : cache.get(key);
      if (v != null) {
        cached++;
      } else {
        try {
          String reply = ask(user);
          v = parse(reply);
          if (cache != null) {
            cache.put(key, v, aFirst, a.text("prompt"), reply);
          }
        } catch (RlsrException e) {
          throw new Failed(e.getMessage(), new WinRate(w, l, t, invalid), total, cached, e);
        }
      }
      if (v == Verdict.INVALID) {
        invalid++;
        t++;
      } else if ((v == Verdict.FIRST) == aFirst) {
        w++;
      } else {
        l++;
      }
    }
    return new Result(new WinRate(w, l, t, invalid), cached);
  }

  /** Without a cache. */
  public WinRate compare(EvalRows.Pairs pairs, String referenceField, String responseField, long seed) {
    return compare(pairs, referenceField, responseField, seed, null).winRate();
  }

  /** Signals a reply over the size cap. */
  static final class TooLarge extends IOException {
    TooLarge() {
      super("reply too large");
    }
  }

  /**
   * Collects a body up to {@code cap} bytes. Over the cap it cancels the subscription (closing the connection) and
   * fails with {@link TooLarge}, or with {@code truncate} completes with the first {@code cap} bytes.
   */
  static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final long cap;
    private final boolean truncate;
    private final long declared;
    private volatile Flow.Subscription subscription;
    private volatile boolean cancelled;

    CappedBody(long cap, boolean truncate, long declared) {
      this.cap = cap;
      this.truncate = truncate;
      this.declared = declared;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (cancelled) {
        s.cancel();
        return;
      }
      if (declared > cap) {
        cancel();
        result.completeExceptionally(new TooLarge());
        return;
      }
      s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer bb : items) {
        int take = (int) Math.min(bb.remaining(), cap - buf.size());
        byte[] chunk = new byte[take];
        bb.get(chunk);
        buf.write(chunk, 0, take);
        if (bb.hasRemaining()) {
          cancel();
          if (truncate) {
            result.complete(buf.toByteArray());
          } else {
            result.completeExceptionally(new TooLarge());
          }
          return;
        }
      }
      subscription.request(1);
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(buf.toByteArray());
    }

    /** Stops receiving; the client closes the connection. */
    void cancel() {
      cancelled = true;
      Flow.Subscription s = subscription;
      if (s != null) {
        s.cancel();
      }
    }
  }
}
