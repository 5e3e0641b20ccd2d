// Judgments of an LLM judge kept as they arrive, one JSON line each, so that a failed `rlsr compare --judge-url`
// run resumes by re-running the same command: pairs already in the file are not asked again.
package dev.rlsr.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.Closeable;
import java.io.IOException;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Lines are {@code {"key": ..., "verdict": "A"|"B"|"invalid", "a_first": ..., "prompt": ..., "reply": ...}}; the
 * key ({@link LlmJudge#key}) hashes the endpoint, the model and the exact question (which includes the order the
 * two outputs were shown in), so a line is only reused for the same question to the same judge. A last line cut
 * short by a crash is dropped (and asked again); any other line that is not such a record is an error (a wrong
 * --judge-cache).
 * Each judgment is flushed to the file before the next request.
 */
public final class JudgeCache implements Closeable {
  private final Path file;
  private final Map<String, LlmJudge.Verdict> verdicts = new HashMap<>();
  private Writer out;
  /** -1: append as is; -2: add a newline first; else cut the file to this length first. */
  private long truncateTo = -1;

  private JudgeCache(Path file) {
    this.file = file;
  }

  /** Reads the judgments already in {@code file} (none if it does not exist); appends go to the same file. */
  public static JudgeCache open(Path file) {
    JudgeCache c = new JudgeCache(file);
    if (!Files.exists(file)) {
      return c;
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new RlsrException("--judge-cache " + file + ": cannot read: " + e.getMessage(), e);
    }
    int lineNo = 0;
    int start = 0;
    while (start < bytes.length) {
      int end = start;
      while (end < bytes.length && bytes[end] != '\n') {
        end++;
      }
      lineNo++;
      String line = new String(bytes, start, end - start, StandardCharsets.UTF_8);
      boolean cutShort = end == bytes.length; // no newline after it
      if (!line.isBlank()) {
        JsonNode n = null;
        try {
          n = Json.MAPPER.readTree(line);
        } catch (IOException e) {
          // n stays null
        }
        LlmJudge.Verdict v = n == null ? null : verdict(n.path("verdict").asText(""));
        if (n == null || !n.path("key").isTextual() || v == null) {
          if (cutShort) {
            c.truncateTo = start; // a judgment cut short by a crash: dropped before the next append, asked again
            break;
          }
          throw new RlsrException("--judge-cache " + file + " line " + lineNo + ": not a judgment as `rlsr compare"
              + " --judge-url` writes them (point --judge-cache at another file)");
        }
        c.verdicts.put(n.get("key").asText(), v);
      }
      if (cutShort) {
        c.truncateTo = -2; // the last line lacks its newline: add one before appending
      }
      start = end + 1;
    }
    return c;
  }

  private static LlmJudge.Verdict verdict(String s) {
    return switch (s) {
      case "A" -> LlmJudge.Verdict.FIRST;
      case "B" -> LlmJudge.Verdict.SECOND;
      case "invalid" -> LlmJudge.Verdict.INVALID;
      default -> null;
    };
  }

  public Path file() {
    return file;
  }

  /** Judgments read from the file when it was opened plus those added since. */
  public int size() {
    return verdicts.size();
  }

  /** The stored verdict (in the order shown) for this key, or null. */
  public LlmJudge.Verdict get(String key) {
    return verdicts.get(key);
  }

  /** Appends one judgment and flushes it; {@code reply} must already be free of control characters. */
  public void put(String key, LlmJudge.Verdict v, boolean aFirst, String prompt, String reply) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("key", key);
    n.put("verdict", switch (v) {
      case FIRST -> "A";
      case SECOND -> "B";
      case INVALID -> "invalid";
    });
    n.put("a_first", aFirst);
    n.put("prompt", ServerText.snippet(prompt, 200));
    n.put("reply", ServerText.snippet(reply, 200));
    try {
      if (out == null) {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
          Files.createDirectories(dir);
        }
        if (truncateTo >= 0) {
          try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(truncateTo);
          }
        }
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
        if (truncateTo == -2) {
          out.write('\n');
        }
      }
      out.write(n.toString());
      out.write('\n');
      out.flush();
    } catch (IOException e) {
      throw new RlsrException("--judge-cache " + file + ": cannot write: " + e.getMessage(), e);
    }
    verdicts.put(key, v);
  }

  @Override
  public void close() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        // every line was flushed already
      }
      out = null;
    }
  }
}
