// Reads instruction data from JSONL in three accepted shapes (prompt/response, Alpaca, chat messages).
package dev.rlsr.policy.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One JSON object per line, UTF-8; blank lines are skipped. Each line is one of:
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

  public static List<Example> read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new RlsrException(file + ": data file not found");
    }
    List<Example> out = new ArrayList<>();
    // Lines are split on '\n' as bytes and decoded one by one, so a decoding error names its own line.
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      int lineNo = 0;
      boolean eof = false;
      while (!eof) {
        int b = in.read();
        if (b >= 0 && b != '\n') {
          buf.write(b);
          continue;
        }
        eof = b < 0;
        if (eof && buf.size() == 0) {
          break;
        }
        lineNo++;
        String line;
        try {
          line = decoder.decode(ByteBuffer.wrap(buf.toByteArray())).toString();
        } catch (CharacterCodingException e) {
          throw new RlsrException(file + ":" + lineNo + ": not valid UTF-8 (save the file as UTF-8)");
        }
        buf.reset();
        if (lineNo == 1 && line.startsWith("\uFEFF")) {
          line = line.substring(1); // byte order mark
        }
        if (line.isBlank()) { // also a lone "\r" of CRLF files
          continue;
        }
        out.add(parseLine(line, file + ":" + lineNo));
      }
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot read: " + e.getMessage(), e);
    }
    return out;
  }

  /** Parses one line; {@code where} ("file:line") prefixes every error. */
  static Example parseLine(String line, String where) {
    JsonNode n;
    try {
      n = Json.MAPPER.readTree(line);
    } catch (JsonProcessingException e) {
      throw bad(where, "not valid JSON (" + e.getOriginalMessage() + ")");
    }
    if (n == null || !n.isObject()) {
      throw bad(where, "not a JSON object");
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
