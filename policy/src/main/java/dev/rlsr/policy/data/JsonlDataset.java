// Reads instruction data from JSONL in three accepted shapes (prompt/response, Alpaca, chat messages).
package dev.rlsr.policy.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.util.JsonLines;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Exactly one JSON object per line, UTF-8, lines ended by {@code \n} or {@code \r\n} (the rules of {@link JsonLines}:
 * text after the object, two objects on a line, or CR-only line endings are errors, never dropped rows); blank and
 * whitespace-only lines are skipped. Each line is one of:
 * <ul>
 *   <li>{@code {"prompt": "...", "response": "..."}}</li>
 *   <li>Alpaca {@code {"instruction": "...", "input": "...", "output": "..."}}: the prompt is the instruction,
 *       followed by {@code "\n\n"} and the input when the input is present and not blank ({@link #ALPACA_JOIN});
 *       {@code input} may be missing or null.</li>
 *   <li>Chat {@code {"messages": [{"role": "...", "content": "..."}, ...]}}: roles system/user/assistant, the last
 *       message is the assistant's reference response and the one before it a user message.</li>
 * </ul>
 * Other keys are ignored. An empty file gives an empty list (callers decide whether that is an error).
 */
public final class JsonlDataset {
  /** Separator between an Alpaca instruction and its non-empty input. */
  public static final String ALPACA_JOIN = "\n\n";

  static final String EXPECTED =
      "expected {\"prompt\",\"response\"}, {\"instruction\",\"input\",\"output\"} or {\"messages\":[...]}";

  private JsonlDataset() {}

  /** Reads the file by the rules of {@link JsonLines}; every error is {@code FILE:LINE: what is wrong}. */
  public static List<Example> read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new RlsrException(file + ": data file not found");
    }
    List<Example> out = new ArrayList<>();
    JsonLines.forEach(file, line -> out.add(parseLine(line.text(), file + ":" + line.number())));
    return out;
  }

  /** Parses one line; {@code where} ("file:line") prefixes every error. */
  static Example parseLine(String line, String where) {
    JsonNode n;
    try {
      n = JsonLines.parseObject(line);
    } catch (JsonLines.BadLine e) {
      throw bad(where, e.getMessage());
    }
    if (n.has("messages")) {
      return parseChat(n.get("messages"), where);
    }
    if (n.has("instruction") || n.has("output")) {
      String instruction = text(n, "instruction", where);
      String output = text(n, "output", where);
      JsonNode in = n.get("input");
      if (in != null && !in.isNull() && !in.isTextual()) {
        throw bad(where, "\"input\" must be a string");
      }
      String input = in == null || in.isNull() ? "" : in.asText();
      String prompt = input.isBlank() ? instruction : instruction + ALPACA_JOIN + input;
      return Example.of(prompt, output);
    }
    if (n.has("prompt") || n.has("response")) {
      return Example.of(text(n, "prompt", where), text(n, "response", where));
    }
    throw bad(where, "no known keys");
  }

  private static Example parseChat(JsonNode msgs, String where) {
    if (!msgs.isArray() || msgs.size() < 2) {
      throw bad(where, "\"messages\" must be an array of at least a user and an assistant message");
    }
    List<Message> list = new ArrayList<>();
    for (int i = 0; i < msgs.size(); i++) {
      JsonNode m = msgs.get(i);
      if (!m.isObject()) {
        throw bad(where, "messages[" + i + "] is not an object");
      }
      String role = text(m, "role", where + ": messages[" + i + "]");
      if (!role.equals(Message.SYSTEM) && !role.equals(Message.USER) && !role.equals(Message.ASSISTANT)) {
        throw bad(where, "messages[" + i + "].role \"" + role + "\" is not system, user or assistant");
      }
      if (role.equals(Message.SYSTEM) && i != 0) {
        throw bad(where, "messages[" + i + "]: a system message may only come first");
      }
      list.add(new Message(role, text(m, "content", where + ": messages[" + i + "]")));
    }
    Message last = list.remove(list.size() - 1);
    if (!last.role().equals(Message.ASSISTANT)) {
      throw bad(where, "the last message must be the assistant's reference response, got role \"" + last.role() + "\"");
    }
    if (!list.get(list.size() - 1).role().equals(Message.USER)) {
      throw bad(where, "the message before the reference response must be a user message");
    }
    return new Example(list, last.content());
  }

  private static String text(JsonNode n, String key, String where) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull()) {
      throw bad(where, "missing key \"" + key + "\"");
    }
    if (!v.isTextual()) {
      throw bad(where, "\"" + key + "\" must be a string, got " + v.getNodeType().toString().toLowerCase());
    }
    return v.asText();
  }

  private static RlsrException bad(String where, String what) {
    return new RlsrException(where + ": " + what + "; " + EXPECTED);
  }
}
