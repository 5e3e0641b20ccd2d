// The judge's HTTP side: one POST to an OpenAI-compatible chat-completions endpoint, answered in full within a
// whole-request deadline and under a reply-size cap, transient failures retried with backoff (see LlmJudge's rules).
package dev.rlsr.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
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
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

final class ChatCompletionsClient {
  /** Bytes of an HTTP error's body read for the error message. */
  static final int ERROR_BODY_BYTES = 4096;

  /** Connect timeout when the whole-request deadline is longer. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private final URI endpoint;
  /** Start of every error message: "--judge-url " and the endpoint. */
  private final String label;
  private final String apiKey;
  private final LlmJudge.Options opts;
  private final HttpClient http;

  /** @param apiKey sent as {@code Authorization: Bearer} when not null */
  ChatCompletionsClient(URI endpoint, String apiKey, LlmJudge.Options opts) {
    this.endpoint = endpoint;
    this.label = "--judge-url " + endpoint;
    this.apiKey = apiKey;
    this.opts = opts;
    Duration connect = opts.timeout().compareTo(CONNECT_TIMEOUT) < 0 ? opts.timeout() : CONNECT_TIMEOUT;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connect).build();
  }

  /** POSTs a chat-completions request body; the reply's choices[0].message.content, without control characters. */
  String complete(String body) {
    HttpRequest.Builder req = HttpRequest.newBuilder(endpoint)
        .timeout(opts.timeout())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
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
        if (a.retryAfter.compareTo(LlmJudge.MAX_RETRY_AFTER) > 0) {
          throw new RlsrException(ServerText.clean(a.error + "; the server asks to retry after "
              + a.retryAfter.toSeconds() + " s (re-run later)"));
        }
        wait = a.retryAfter.compareTo(wait) > 0 ? a.retryAfter : wait;
      }
      if (!a.retry || attempt > opts.retries()) {
        String tries = a.retry && attempt > 1 ? " (gave up after " + attempt + " attempts, --judge-retries "
            + opts.retries() + ")" : "";
        throw new RlsrException(ServerText.clean(a.error + tries));
      }
      try {
        Thread.sleep(wait.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RlsrException(label + ": interrupted");
      }
    }
  }

  /** Wait before retry number {@code retry} (1-based): backoff * 2^(retry-1), at most {@link LlmJudge#MAX_BACKOFF}. */
  Duration backoff(int retry) {
    long ms = opts.backoff().toMillis();
    for (int i = 1; i < retry && ms < LlmJudge.MAX_BACKOFF.toMillis(); i++) {
      ms *= 2;
    }
    return Duration.ofMillis(Math.min(ms, LlmJudge.MAX_BACKOFF.toMillis()));
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
      String snippet = ServerText.snippet(text, 200);
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
      return Attempt.fail(label + ": reply is not JSON: " + ServerText.snippet(text, 200), false);
    }
    JsonNode content = reply.path("choices").path(0).path("message").path("content");
    if (!content.isTextual()) {
      return Attempt.fail(label + ": reply has no choices[0].message.content (is this an OpenAI-compatible"
          + " chat-completions endpoint?): " + ServerText.snippet(text, 200), false);
    }
    return Attempt.ok(ServerText.clean(content.asText()));
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
    if (has(t, CappedBody.TooLarge.class) != null) {
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
}
