// The run config a checkpoint records, compared on resume: which options may differ (speed, logging, where
// checkpoints go) and which must match, the "key old -> new" list of differences, and the data file's size and hash.
package dev.rlsr.policy.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.FileTrees;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Resume verification behind {@link Checkpoints#verifyRunConfig} and {@link Checkpoints#recordData}. */
final class RunConfigCheck {
  private RunConfigCheck() {}

  /**
   * Run-config keys that may differ on resume: they change speed, logging or where checkpoints go, not the
   * weights a run ends with. Every other key (data and its hash, batch sizes, learning rate and schedule, steps,
   * seed, lengths, loss and RL settings, model path) must match unless --resume-override is given.
   */
  static final Set<String> FREE_KEYS = Set.of("threads", "device", "save_every", "save_total_limit",
      "log_completions", "resume", "stop_after", "out", "rollout_engine", "spark_master", "rollout_partitions",
      "spark_weights_dir");

  /** See {@link Checkpoints#verifyRunConfig}. */
  static List<String> verify(Path checkpoint, ObjectNode current, boolean override, PrintWriter log) {
    ObjectNode recorded;
    Path f = checkpoint.resolve(Checkpoints.RUN_CONFIG);
    try {
      recorded = (ObjectNode) Json.MAPPER.readTree(f.toFile());
    } catch (IOException | ClassCastException e) {
      throw new RlsrException(f + ": not a valid run config: " + e.getMessage());
    }
    List<String> diffs = differences(recorded, current);
    if (diffs.isEmpty()) {
      return diffs;
    }
    if (!override) {
      throw new RlsrException("--resume: these options differ from the checkpoint's run config (" + f + "): "
          + String.join(", ", diffs) + "; pass --resume-override to continue anyway");
    }
    if (log != null) {
      log.println("--resume-override: continuing although these options differ from the checkpoint's run config: "
          + String.join(", ", diffs));
    }
    return diffs;
  }

  /** "key old -> new" for every key outside {@link #FREE_KEYS} whose value differs. */
  static List<String> differences(ObjectNode recorded, ObjectNode current) {
    Set<String> keys = new TreeSet<>();
    recorded.fieldNames().forEachRemaining(keys::add);
    current.fieldNames().forEachRemaining(keys::add);
    List<String> order = new ArrayList<>();
    for (Iterator<String> it = current.fieldNames(); it.hasNext(); ) {
      order.add(it.next());
    }
    for (String k : keys) {
      if (!order.contains(k)) {
        order.add(k);
      }
    }
    List<String> diffs = new ArrayList<>();
    for (String k : order) {
      if (FREE_KEYS.contains(k)) {
        continue;
      }
      JsonNode a = recorded.get(k);
      JsonNode b = current.get(k);
      if (!same(k, a, b)) {
        diffs.add(k + " " + show(k, a) + " -> " + show(k, b));
      }
    }
    return diffs;
  }

  private static boolean same(String key, JsonNode a, JsonNode b) {
    if (a == null || b == null || a.isNull() || b.isNull()) {
      return (a == null || a.isNull()) && (b == null || b.isNull());
    }
    if ((key.equals("model") || key.equals("data")) && a.isTextual() && b.isTextual()) {
      return Path.of(a.asText()).toAbsolutePath().normalize().equals(Path.of(b.asText()).toAbsolutePath().normalize());
    }
    if (a.isNumber() && b.isNumber()) {
      return a.asDouble() == b.asDouble();
    }
    return a.equals(b);
  }

  private static String show(String key, JsonNode n) {
    if (n == null || n.isNull()) {
      return "(none)";
    }
    if (key.endsWith("_sha256") && n.isTextual() && n.asText().length() > 12) {
      return n.asText().substring(0, 12);
    }
    if (n.isFloatingPointNumber()) {
      String s = Double.toString(n.asDouble()); // 1.0E-4 -> 1e-4
      return s.replace(".0E", "e").replace("E", "e");
    }
    return n.isTextual() ? n.asText() : n.toString();
  }

  /** See {@link Checkpoints#recordData}. */
  static void recordData(ObjectNode runConfig, Path data) {
    if (data == null || !Files.isRegularFile(data)) {
      return;
    }
    try {
      runConfig.put("data_bytes", Files.size(data));
      runConfig.put("data_sha256", FileTrees.sha256(data));
    } catch (IOException e) {
      throw new RlsrException(data + ": cannot read: " + e.getMessage(), e);
    }
  }
}
