// Reads eval output JSONL (one row per prompt: prompt, reference, response, judge_reward, ...) and pairs the rows
// of two such files for a head-to-head comparison.
package dev.rlsr.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.JsonLines;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

public final class EvalRows {
  /** One row and the line it came from (for error messages). */
  public record Row(ObjectNode json, int line) {
    public String text(String field) {
      return json.path(field).asText("");
    }
  }

  /** Matched rows: {@code a.get(i)} and {@code b.get(i)} answer the same prompt. */
  public record Pairs(List<Row> a, List<Row> b, boolean byPrompt) {}

  private EvalRows() {}

  /**
   * Every non-blank line as a JSON object that has a {@code prompt}, read by the rules of {@link JsonLines} (exactly
   * one object per line, {@code \n} or {@code \r\n} endings, strict UTF-8).
   */
  public static List<Row> read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new RlsrException(file + ": eval output file not found");
    }
    List<Row> rows = new ArrayList<>();
    for (JsonLines.Line line : JsonLines.readAll(file)) {
      ObjectNode o;
      try {
        o = JsonLines.parseObject(line.text());
      } catch (JsonLines.BadLine e) {
        throw new RlsrException(file + " line " + line.number() + ": " + e.getMessage());
      }
      if (!o.path("prompt").isTextual()) {
        throw new RlsrException(file + " line " + line.number() + ": expected a JSON object with a \"prompt\" string"
            + " (rows as `rlsr eval` writes them)");
      }
      rows.add(new Row(o, line.number()));
    }
    if (rows.isEmpty()) {
      throw new RlsrException(file + ": no rows");
    }
    return rows;
  }

  /**
   * Pairs rows by prompt when every prompt occurs once in each file (then both files must hold the same prompts);
   * otherwise by row index, which needs the same number of rows and the same prompt at every index.
   */
  public static Pairs match(Path fileA, List<Row> a, Path fileB, List<Row> b) {
    Map<String, Row> byPromptB = unique(b);
    if (unique(a) != null && byPromptB != null) {
      List<Row> pa = new ArrayList<>();
      List<Row> pb = new ArrayList<>();
      for (Row r : a) {
        Row other = byPromptB.get(r.text("prompt"));
        if (other == null) {
          throw new RlsrException(fileA + " line " + r.line() + ": prompt \"" + abbreviate(r.text("prompt"))
              + "\" has no row in " + fileB + " (compare outputs of the same eval set)");
        }
        pa.add(r);
        pb.add(other);
      }
      if (a.size() != b.size()) {
        throw new RlsrException(fileB + ": has " + b.size() + " rows, " + fileA + " has " + a.size()
            + " (compare outputs of the same eval set)");
      }
      return new Pairs(pa, pb, true);
    }
    if (a.size() != b.size()) {
      throw new RlsrException(fileA + " (" + a.size() + " rows) and " + fileB + " (" + b.size() + " rows): prompts"
          + " repeat, so rows are matched by index, which needs the same number of rows");
    }
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).text("prompt").equals(b.get(i).text("prompt"))) {
        throw new RlsrException(fileB + " line " + b.get(i).line() + ": prompt differs from " + fileA + " line "
            + a.get(i).line() + " (prompts repeat, so rows are matched by index and must be in the same order)");
      }
    }
    return new Pairs(a, b, false);
  }

  private static Map<String, Row> unique(List<Row> rows) {
    Map<String, Row> m = new HashMap<>();
    Set<String> seen = new HashSet<>();
    for (Row r : rows) {
      if (!seen.add(r.text("prompt"))) {
        return null;
      }
      m.put(r.text("prompt"), r);
    }
    return m;
  }

  static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
