// A /v1/completions or /v1/chat/completions body read and checked field by field: every wrong field is a 400
// naming it, before anything is queued.
package dev.rlsr.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.data.Message;
import dev.rlsr.policy.util.StrictJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The fields rlsr serve honours, as OpenAI defines them: {@code model}, {@code prompt} (completions: a string, a list
 * of strings, a list of token ids or a list of such lists) or {@code messages} (chat: system, developer, user and
 * assistant turns, content a string or a list of text parts), {@code max_tokens} (chat also
 * {@code max_completion_tokens}), {@code temperature} (0 is greedy), {@code top_p}, {@code n}, {@code seed},
 * {@code stop} (a string or up to 4), {@code stream} and {@code stream_options.include_usage}. Fields that would change
 * the answer and are not implemented (penalties, logit_bias, logprobs, tools, echo, best_of, suffix, a non-text
 * response_format) are refused rather than ignored; other fields (user, metadata, ...) are ignored.
 */
record CompletionRequest(
    boolean chat,
    String model,
    List<List<Message>> chats,   // chat: one conversation
    List<String> texts,          // completions: the prompts as text (null entries where given as token ids)
    List<int[]> tokenPrompts,    // completions: the prompts given as token ids (null entries where given as text)
    Integer maxTokens,
    double temperature,
    double topP,
    int n,
    Long seed,
    List<String> stop,
    boolean stream,
    boolean includeUsage) {

  /** OpenAI's limits: at most 4 stop sequences, temperature in [0, 2]. */
  static final int MAX_STOPS = 4;
  static final double MAX_TEMPERATURE = 2;

  static CompletionRequest parse(JsonNode body, boolean chat, int maxN) {
    if (body == null || !body.isObject()) {
      throw new ApiError(400, "the request body must be a JSON object", null, null);
    }
    String model = string(body, "model", true);
    List<List<Message>> chats = null;
    List<String> texts = null;
    List<int[]> tokenPrompts = null;
    if (chat) {
      chats = List.of(messages(body.get("messages")));
    } else {
      texts = new ArrayList<>();
      tokenPrompts = new ArrayList<>();
      prompts(body.get("prompt"), texts, tokenPrompts);
    }
    refuseUnsupported(body, chat);
    Integer maxTokens = optInt(body, chat && present(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens",
        1, Integer.MAX_VALUE);
    double temperature = optNumber(body, "temperature", 1.0, 0, MAX_TEMPERATURE, true);
    double topP = optNumber(body, "top_p", 1.0, 0, 1, false);
    Integer n = optInt(body, "n", 1, maxN);
    Long seed = present(body, "seed") ? longValue(body, "seed") : null;
    List<String> stop = stops(body.get("stop"));
    boolean stream = optBool(body, "stream", false);
    boolean includeUsage = false;
    if (present(body, "stream_options")) {
      JsonNode so = body.get("stream_options");
      if (!so.isObject()) {
        throw ApiError.badField("stream_options", "'stream_options' must be an object, got " + StrictJson.kind(so));
      }
      includeUsage = optBool(so, "include_usage", false);
    }
    return new CompletionRequest(chat, model, chats, texts, tokenPrompts, maxTokens, temperature, topP,
        n == null ? 1 : n, seed, stop, stream, includeUsage);
  }

  /** Number of prompts (chat: 1). */
  int prompts() {
    return chat ? 1 : texts.size();
  }

  private static final Map<String, String> UNSUPPORTED = Map.of(
      "presence_penalty", "penalties are not implemented: leave presence_penalty at 0",
      "frequency_penalty", "penalties are not implemented: leave frequency_penalty at 0",
      "logit_bias", "logit_bias is not implemented",
      "tools", "tool calls are not implemented",
      "functions", "function calls are not implemented",
      "suffix", "suffix (insertion) is not implemented");

  private static void refuseUnsupported(JsonNode body, boolean chat) {
    for (var e : UNSUPPORTED.entrySet()) {
      JsonNode v = body.get(e.getKey());
      boolean neutral = v == null || v.isNull() || (v.isNumber() && v.asDouble() == 0)
          || (v.isContainerNode() && v.isEmpty()) || (v.isTextual() && v.asText().isEmpty());
      if (!neutral) {
        throw ApiError.badField(e.getKey(), "'" + e.getKey() + "': " + e.getValue() + " by rlsr serve");
      }
    }
    JsonNode lp = body.get("logprobs");
    if (lp != null && !lp.isNull() && !(lp.isBoolean() && !lp.asBoolean()) && !(lp.isInt() && lp.asInt() == 0)) {
      throw ApiError.badField("logprobs", "'logprobs' is not implemented by rlsr serve (rlsr logprobs scores text)");
    }
    if (optBool(body, "echo", false)) {
      throw ApiError.badField("echo", "'echo' is not implemented by rlsr serve");
    }
    if (present(body, "best_of") && !(body.get("best_of").isInt() && body.get("best_of").asInt() == 1)) {
      throw ApiError.badField("best_of", "'best_of' other than 1 is not implemented by rlsr serve");
    }
    JsonNode rf = body.get("response_format");
    if (chat && rf != null && !rf.isNull() && !(rf.isObject() && "text".equals(rf.path("type").asText()))) {
      throw ApiError.badField("response_format", "'response_format' other than {\"type\": \"text\"} is not "
          + "implemented by rlsr serve");
    }
  }

  private static List<Message> messages(JsonNode v) {
    if (v == null || v.isNull()) {
      throw ApiError.badField("messages", "'messages' is required");
    }
    if (!v.isArray() || v.isEmpty()) {
      throw ApiError.badField("messages", "'messages' must be a non-empty array, got "
          + (v.isArray() ? "an empty one" : StrictJson.kind(v)));
    }
    List<Message> out = new ArrayList<>();
    for (int i = 0; i < v.size(); i++) {
      JsonNode m = v.get(i);
      String at = "messages[" + i + "]";
      if (!m.isObject()) {
        throw ApiError.badField(at, "'" + at + "' must be an object, got " + StrictJson.kind(m));
      }
      JsonNode roleNode = m.get("role");
      if (roleNode == null || !roleNode.isTextual()) {
        throw ApiError.badField(at + ".role", "'" + at + ".role' must be a string");
      }
      String role = switch (roleNode.asText()) {
        case "system", "developer" -> Message.SYSTEM;
        case "user" -> Message.USER;
        case "assistant" -> Message.ASSISTANT;
        default -> throw ApiError.badField(at + ".role", "'" + at + ".role' is \"" + roleNode.asText()
            + "\"; rlsr serve takes system, developer, user and assistant messages");
      };
      out.add(new Message(role, content(m.get("content"), at + ".content", role.equals(Message.ASSISTANT))));
    }
    return out;
  }

  private static String content(JsonNode c, String at, boolean mayBeNull) {
    if (c == null || c.isNull()) {
      if (mayBeNull) {
        return "";
      }
      throw ApiError.badField(at, "'" + at + "' is required");
    }
    if (c.isTextual()) {
      return c.asText();
    }
    if (c.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < c.size(); i++) {
        JsonNode part = c.get(i);
        if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
          throw ApiError.badField(at + "[" + i + "]", "'" + at + "[" + i + "]' must be a text part "
              + "{\"type\": \"text\", \"text\": ...}; rlsr serve takes text only");
        }
        sb.append(part.get("text").asText());
      }
      return sb.toString();
    }
    throw ApiError.badField(at, "'" + at + "' must be a string or an array of text parts, got " + StrictJson.kind(c));
  }

  private static void prompts(JsonNode v, List<String> texts, List<int[]> ids) {
    if (v == null || v.isNull()) {
      throw ApiError.badField("prompt", "'prompt' is required");
    }
    if (v.isTextual()) {
      texts.add(v.asText());
      ids.add(null);
      return;
    }
    if (!v.isArray() || v.isEmpty()) {
      throw ApiError.badField("prompt", "'prompt' must be a string, an array of strings or an array of token ids, got "
          + (v.isArray() ? "an empty array" : StrictJson.kind(v)));
    }
    if (v.get(0).isNumber()) {
      texts.add(null);
      ids.add(tokenIds(v, "prompt"));
      return;
    }
    for (int i = 0; i < v.size(); i++) {
      JsonNode p = v.get(i);
      if (p.isTextual()) {
        texts.add(p.asText());
        ids.add(null);
      } else if (p.isArray()) {
        texts.add(null);
        ids.add(tokenIds(p, "prompt[" + i + "]"));
      } else {
        throw ApiError.badField("prompt", "'prompt[" + i + "]' must be a string or an array of token ids, got " + StrictJson.kind(p));
      }
    }
  }

  private static int[] tokenIds(JsonNode v, String at) {
    int[] out = new int[v.size()];
    for (int i = 0; i < v.size(); i++) {
      if (!v.get(i).isInt() || v.get(i).asInt() < 0) {
        throw ApiError.badField("prompt", "'" + at + "[" + i + "]' must be a token id (a non-negative integer), got "
            + v.get(i));
      }
      out[i] = v.get(i).asInt();
    }
    return out;
  }

  private static List<String> stops(JsonNode v) {
    if (v == null || v.isNull()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    if (v.isTextual()) {
      out.add(v.asText());
    } else if (v.isArray()) {
      if (v.size() > MAX_STOPS) {
        throw ApiError.badField("stop", "'stop' takes at most " + MAX_STOPS + " sequences, got " + v.size());
      }
      for (JsonNode s : v) {
        if (!s.isTextual()) {
          throw ApiError.badField("stop", "'stop' must be a string or an array of strings, got an element " + StrictJson.kind(s));
        }
        out.add(s.asText());
      }
    } else {
      throw ApiError.badField("stop", "'stop' must be a string or an array of strings, got " + StrictJson.kind(v));
    }
    if (out.stream().anyMatch(String::isEmpty)) {
      throw ApiError.badField("stop", "'stop' sequences must not be empty");
    }
    return List.copyOf(out);
  }

  private static boolean present(JsonNode o, String field) {
    return o.has(field) && !o.get(field).isNull();
  }

  private static String string(JsonNode o, String field, boolean required) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw ApiError.badField(field, "'" + field + "' is required");
      }
      return null;
    }
    if (!v.isTextual()) {
      throw ApiError.badField(field, "'" + field + "' must be a string, got " + StrictJson.kind(v));
    }
    return v.asText();
  }

  private static Integer optInt(JsonNode o, String field, int min, int max) {
    if (!present(o, field)) {
      return null;
    }
    JsonNode v = o.get(field);
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw ApiError.badField(field, "'" + field + "' must be an integer, got " + StrictJson.kind(v));
    }
    int x = v.asInt();
    if (x < min || x > max) {
      throw ApiError.badField(field, "'" + field + "' must be " + (max == Integer.MAX_VALUE ? "at least " + min
          : "between " + min + " and " + max) + ", got " + x);
    }
    return x;
  }

  private static long longValue(JsonNode o, String field) {
    JsonNode v = o.get(field);
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw ApiError.badField(field, "'" + field + "' must be an integer, got " + StrictJson.kind(v));
    }
    return v.asLong();
  }

  private static double optNumber(JsonNode o, String field, double dflt, double min, double max, boolean minIncluded) {
    if (!present(o, field)) {
      return dflt;
    }
    JsonNode v = o.get(field);
    if (!v.isNumber()) {
      throw ApiError.badField(field, "'" + field + "' must be a number, got " + StrictJson.kind(v));
    }
    double x = v.asDouble();
    if (!(minIncluded ? x >= min : x > min) || !(x <= max)) {
      throw ApiError.badField(field, "'" + field + "' must be in " + (minIncluded ? "[" : "(") + min + ", " + max
          + "], got " + x);
    }
    return x;
  }

  private static boolean optBool(JsonNode o, String field, boolean dflt) {
    if (!present(o, field)) {
      return dflt;
    }
    JsonNode v = o.get(field);
    if (!v.isBoolean()) {
      throw ApiError.badField(field, "'" + field + "' must be a boolean, got " + StrictJson.kind(v));
    }
    return v.asBoolean();
  }
}
