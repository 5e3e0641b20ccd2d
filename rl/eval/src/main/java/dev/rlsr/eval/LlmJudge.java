// Pairwise judging by an LLM behind an OpenAI-compatible /v1/chat/completions endpoint, AlpacaEval style: the
// judge sees the instruction, the reference and two outputs and names the better one; the order is randomized.
// Each request has a whole-request deadline and a reply-size cap, transient failures are retried with backoff
// (ChatCompletionsClient), and text from the server is stripped of control characters (ServerText).
package dev.rlsr.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.SplittableRandom;
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

  /** Longest wait between two attempts from the exponential backoff. */
  public static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  /** Longest {@code Retry-After} honoured; a server asking for more fails the request at once. */
  public static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(60);

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
  private final String model;
  private final ChatCompletionsClient client;

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
    this.model = model;
    this.client = new ChatCompletionsClient(endpoint, apiKey, opts);
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
      throw new RlsrException("--judge-url " + ServerText.clean(url)
          + ": not an http(s) URL (e.g. http://127.0.0.1:8000/v1)");
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
    return client.complete(body.toString());
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
}
