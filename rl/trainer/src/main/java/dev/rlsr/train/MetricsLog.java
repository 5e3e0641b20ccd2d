// metrics.jsonl: one JSON object per step or iteration, flushed line by line so a killed run keeps what it logged.
// On resume the lines past the checkpoint are dropped, so the file reads like one uninterrupted run.
package dev.rlsr.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

public final class MetricsLog implements AutoCloseable {
  private final Path file;
  private final BufferedWriter out;

  /**
   * @param keepUpTo when resuming, keep only lines whose {@code counterKey} is at most this value; -1 starts fresh
   */
  public MetricsLog(Path file, String counterKey, long keepUpTo) {
    this.file = file;
    try {
      List<String> kept = new ArrayList<>();
      if (keepUpTo >= 0 && Files.isRegularFile(file)) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (line.isBlank()) {
            continue;
          }
          try {
            JsonNode n = Json.MAPPER.readTree(line);
            if (n.path(counterKey).asLong(Long.MAX_VALUE) <= keepUpTo) {
              kept.add(line);
            }
          } catch (IOException e) {
            // a line cut by a kill: dropped
          }
        }
      }
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, kept, StandardCharsets.UTF_8);
      out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot write metrics: " + e.getMessage(), e);
    }
  }

  public void write(ObjectNode row) {
    try {
      out.write(Json.MAPPER.writeValueAsString(row));
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot write metrics: " + e.getMessage(), e);
    }
  }

  /** Reads every row of a metrics file (for plots and reports). */
  public static List<JsonNode> read(Path file) {
    List<JsonNode> rows = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          rows.add(Json.MAPPER.readTree(line));
        }
      }
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot read metrics: " + e.getMessage(), e);
    }
    return rows;
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException ignored) {
      // nothing buffered: every row was flushed
    }
  }
}
