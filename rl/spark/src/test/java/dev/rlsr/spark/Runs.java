// Test helpers of the Spark engine tests: the rlsr CLI in-process, a small model and data set, and what two runs'
// outputs are compared by (every completion row with its reward, the final weights).
package dev.rlsr.spark;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.cli.Main;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.train.MetricsLog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

final class Runs {
  private Runs() {}

  record Run(int code, String out, String err) {}

  static Run cli(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args.toArray(String[]::new));
    return new Run(code, out.toString(), err.toString());
  }

  static Path model(Path dir) {
    return TinyCheckpoints.write(dir, TinyCheckpoints.llama(), Safetensors.DType.F32, 9);
  }

  static Path data(Path dir) throws Exception {
    Path f = dir.resolve("d.jsonl");
    Files.writeString(f, "{\"prompt\":\"color?\",\"response\":\"red\"}\n{\"prompt\":\"sky?\",\"response\":\"blue sky\"}\n"
        + "{\"prompt\":\"grass?\",\"response\":\"green grass\"}\n{\"prompt\":\"sea?\",\"response\":\"deep blue sea\"}\n");
    return f;
  }

  /** 3 iterations of 3 prompts x 4 completions; every row logged; a checkpoint after each iteration. */
  static List<String> train(Path model, Path data, Path out, String... more) {
    List<String> a = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.toString(), "--out",
        out.toString(), "--iterations", "3", "--prompts-per-iteration", "3", "--num-generations", "4",
        "--max-completion-length", "8", "--learning-rate", "5e-3", "--beta", "0.02", "--threads", "1", "--seed", "3",
        "--log-completions", "12", "--save-every", "1", "--save-total-limit", "0"));
    a.addAll(List.of(more));
    return a;
  }

  /** Every logged row: iteration, completion text and reward. */
  static List<String> completions(Path out) {
    List<String> rows = new ArrayList<>();
    for (JsonNode n : MetricsLog.read(out.resolve("completions.jsonl"))) {
      rows.add(n.get("iteration").asInt() + " | " + n.get("completion").asText() + " | " + n.get("reward").floatValue());
    }
    return rows;
  }

  static double maxWeightDiff(Path a, Path b) {
    Map<String, FloatTensor> x = Safetensors.read(a.resolve("model.safetensors"));
    Map<String, FloatTensor> y = Safetensors.read(b.resolve("model.safetensors"));
    if (!x.keySet().equals(y.keySet())) {
      throw new AssertionError("different tensors: " + x.keySet() + " vs " + y.keySet());
    }
    double worst = 0;
    for (String k : x.keySet()) {
      float[] p = x.get(k).data();
      float[] q = y.get(k).data();
      for (int i = 0; i < p.length; i++) {
        worst = Math.max(worst, Math.abs(p[i] - q[i]));
      }
    }
    return worst;
  }

  /** What a run killed after {@code iteration} iterations leaves: LATEST on that checkpoint, no final model. */
  static void rewindTo(Path out, int iteration) throws Exception {
    Path ck = out.resolve("checkpoints");
    String name = String.format("step-%08d", iteration);
    if (!Files.isDirectory(ck.resolve(name))) {
      throw new AssertionError("no checkpoint " + name + " in " + ck);
    }
    try (var s = Files.list(ck)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith("step-") && n.compareTo(name) > 0) {
          dev.rlsr.policy.util.FileTrees.deleteTree(p);
        }
      }
    }
    Files.writeString(ck.resolve("LATEST"), name);
    try (var s = Files.list(out)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (Files.isRegularFile(p) && !n.endsWith(".jsonl")) {
          Files.delete(p); // the published final model
        }
      }
    }
  }
}
