// Pairwise judging by an LLM behind an OpenAI-compatible /v1/chat/completions endpoint, AlpacaEval style: the
// judge sees the instruction, the reference and two outputs and names the better one; the order is randomized.
package dev.rlsr.rl.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One chat-completions request per pair (temperature 0, at most {@link #MAX_TOKENS} tokens). The verdict is the
 * first standalone letter A or B in the reply; anything else is {@link Verdict#INVALID}. Which system's output is
 * shown as "Output (A)" is drawn per pair from a seeded generator, cancelling the judge's position bias on average.
 */
public final class LlmJudge {
  public enum Verdict { FIRST, SECOND, INVALID }

  /** Tokens the judge may answer with (a letter, perhaps a short explanation). */
  public static final int MAX_TOKENS = 8;

  static final String SYSTEM = "You are a careful evaluator of instruction-following. Compare two outputs for the"
      + " same instruction and decide which one follows the instruction better and agrees better with the"
      + " reference answer. Answer with a single letter: A or B.";

  private static final Pattern LETTER = Pattern.compile("\\b([AB])\\b");

  private final URI endpoint;
  private final String model;
  private final String apiKey;
  private final Duration timeout;
  private final HttpClient http;

  /**
   * @param url     the server's base URL ({@code http://host:port}), its {@code /v1}, or the full
   *                {@code .../chat/completions} URL
   * @param model   value of the request's {@code model} field
   * @param apiKey  sent as {@code Authorization: Bearer} when not null
   * @param timeout per request
   */
  public LlmJudge(String url, String model, String apiKey, Duration timeout) {
    this.endpoint = endpoint(url);
    this.model = model;
    this.apiKey = apiKey;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  static URI endpoint(String url) {
    String u = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    if (!u.endsWith("/chat/completions")) {
      u = u.endsWith("/v1") ? u + "/chat/completions" : u + "/v1/chat/completions";
    }
    try {
      URI uri = URI.create(u);
      if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
        throw new IllegalArgumentException("not http(s)");
      }
      return uri;
    } catch (IllegalArgumentException e) {
      throw new RlsrException("--judge-url " + url + ": not an http(s) URL (e.g. http://127.0.0.1:8000/v1)");
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

  /** Asks the judge about one pair shown in this order. */
  public Verdict judge(String instruction, String reference, String first, String second) {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("model", model);
    var messages = body.putArray("messages");
    messages.addObject().put("role", "system").put("content", SYSTEM);
    messages.addObject().put("role", "user").put("content", userMessage(instruction, reference, first, second));
    body.put("temperature", 0);
    body.put("max_tokens", MAX_TOKENS);
    HttpRequest.Builder req = HttpRequest.newBuilder(endpoint)
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
    if (apiKey != null) {
      req.header("Authorization", "Bearer " + apiKey);
    }
    HttpResponse<String> resp;
    try {
      resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new RlsrException("--judge-url " + endpoint + ": request failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RlsrException("--judge-url " + endpoint + ": interrupted");
    }
    if (resp.statusCode() / 100 != 2) {
      throw new RlsrException("--judge-url " + endpoint + ": HTTP " + resp.statusCode() + ": "
          + EvalRows.abbreviate(resp.body().strip()));
    }
    JsonNode reply;
    try {
      reply = Json.MAPPER.readTree(resp.body());
    } catch (IOException e) {
      throw new RlsrException("--judge-url " + endpoint + ": reply is not JSON: " + EvalRows.abbreviate(resp.body()));
    }
    JsonNode content = reply.path("choices").path(0).path("message").path("content");
    if (!content.isTextual()) {
      throw new RlsrException("--judge-url " + endpoint + ": reply has no choices[0].message.content (is this an"
          + " OpenAI-compatible chat-completions endpoint?)");
    }
    return parse(content.asText());
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
   * Judges every pair, showing A's response first or second as a seeded coin decides, and counts A's wins.
   *
   * @param referenceField the rows' reference field
   * @param responseField  the rows' response field
   */
  public WinRate compare(EvalRows.Pairs pairs, String referenceField, String responseField, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    int w = 0;
    int l = 0;
    int t = 0;
    int invalid = 0;
    for (int i = 0; i < pairs.a().size(); i++) {
      EvalRows.Row a = pairs.a().get(i);
      EvalRows.Row b = pairs.b().get(i);
      boolean aFirst = rng.nextBoolean();
      String ra = a.text(responseField);
      String rb = b.text(responseField);
      Verdict v = judge(a.text("prompt"), a.text(referenceField), aFirst ? ra : rb, aFirst ? rb : ra);
      if (v == Verdict.INVALID) {
        invalid++;
        t++;
      } else if ((v == Verdict.FIRST) == aFirst) {
        w++;
      } else {
        l++;
      }
    }
    return new WinRate(w, l, t, invalid);
  }
}
