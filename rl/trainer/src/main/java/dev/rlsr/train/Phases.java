// The lines a training run prints as its phases begin (loading the model, building the graph, the first step), each
// with the seconds since the run started: at real size the first ones take minutes, and the progress bar comes last.
package dev.rlsr.train;

import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.PeftAdapter;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.ModelConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

public final class Phases {
  private final PrintWriter log;
  private final long start = System.nanoTime();

  public Phases(PrintWriter log) {
    this.log = log;
  }

  /** "[  12.3 s] building the TensorFlow graph..." */
  public void begin(String what) {
    log.printf(Locale.ROOT, "[%6.1f s] %s...%n", (System.nanoTime() - start) / 1e9, what);
    log.flush();
  }

  /**
   * "loading DIR/model.safetensors (494M parameters)", the count from config.json (nothing else is read); an adapter
   * directory names its adapter_model.safetensors and counts its base.
   */
  public void loading(Path modelDir) {
    Path file = PeftAdapter.isAdapterDir(modelDir) ? modelDir.resolve(PeftAdapter.WEIGHTS)
        : modelDir.resolve(Files.isRegularFile(modelDir.resolve(Safetensors.SINGLE_FILE))
            ? Safetensors.SINGLE_FILE : Safetensors.INDEX_FILE);
    String count;
    try {
      count = " (" + count(MemoryPlan.parameters(ModelConfig.read(HfModel.configFile(modelDir))))
          + " parameters)";
    } catch (RuntimeException e) { // the load that follows names what is wrong with the config
      count = "";
    }
    begin("loading " + file + count);
  }

  /** Opens the progress bar once {@code firstPhase} (the first step, or iteration) begins. */
  public Progress progress(String task, long total, long start, String firstPhase) {
    begin(firstPhase);
    return new Progress(task, total, start);
  }

  /** 494032768 -> "494M", 1543714304 -> "1.5B", 5200000 -> "5.2M", 90000 -> "90K". */
  static String count(long n) {
    if (n >= 1_000_000_000L) {
      return String.format(Locale.ROOT, "%.1fB", n / 1e9);
    }
    if (n >= 100_000_000L) {
      return String.format(Locale.ROOT, "%.0fM", n / 1e6);
    }
    if (n >= 1_000_000L) {
      return String.format(Locale.ROOT, "%.1fM", n / 1e6);
    }
    return n >= 1000 ? String.format(Locale.ROOT, "%.0fK", n / 1e3) : Long.toString(n);
  }
}
