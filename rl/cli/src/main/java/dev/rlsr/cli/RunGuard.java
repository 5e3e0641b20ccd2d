// Checks shared by the commands that write a run directory (sft, train, pretrain; export for --out): --out must be
// a directory that is neither the model it reads nor inside it, lengths fit the model, and the run lock is taken
// before anything is written.
package dev.rlsr.cli;

import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.PeftAdapter;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.FileTrees;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.RunLock;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;

final class RunGuard {
  private RunGuard() {}

  /**
   * Refuses an --out that is a regular file, that is one of {@code inputs} (flag -> directory, e.g. --model) or lies
   * inside one, or that holds one of them inside its checkpoints/ (which a run prunes and replaces). Real paths are
   * compared, so symbolic links and "a/../b" do not hide a match.
   */
  static void checkOut(Path out, Map<String, Path> inputs) {
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new RlsrException("--out " + out + " is a file, not a directory");
    }
    Path realOut = FileTrees.realPath(out);
    for (var e : inputs.entrySet()) {
      if (e.getValue() == null) {
        continue;
      }
      Path in = FileTrees.realPath(e.getValue());
      if (realOut.equals(in)) {
        throw new RlsrException("--out " + out + " is the " + e.getKey() + " directory " + e.getValue()
            + ": the run would write over the files it starts from; choose another --out");
      }
      if (realOut.startsWith(in)) {
        throw new RlsrException("--out " + out + " lies inside " + e.getKey() + " " + e.getValue()
            + ": the run would write into that directory; choose an --out outside it");
      }
      if (in.startsWith(realOut.resolve(Checkpoints.DIR))) {
        throw new RlsrException(e.getKey() + " " + e.getValue() + " lies inside --out " + out + "/" + Checkpoints.DIR
            + ", which the run prunes and replaces; copy it elsewhere first, or choose another --out");
      }
    }
  }

  /** --resume-override without --resume (sft, pretrain, train). */
  static void checkResumeOverride(boolean resume, boolean resumeOverride) {
    if (resumeOverride && !resume) {
      throw new RlsrException("--resume-override only applies with --resume");
    }
  }

  /** Refuses an --out that is the directory of {@code flag} (e.g. --tokenizer, whose files the final model replaces). */
  static void checkNotSame(Path out, String flag, Path dir) {
    if (dir != null && FileTrees.realPath(out).equals(FileTrees.realPath(dir))) {
      throw new RlsrException("--out " + out + " is the " + flag + " directory " + dir
          + ": the run would write over its files; choose another --out");
    }
  }

  static Map<String, Path> inputs(String flag, Path dir, String flag2, Path dir2) {
    Map<String, Path> m = new LinkedHashMap<>();
    m.put(flag, dir);
    if (flag2 != null) {
      m.put(flag2, dir2);
    }
    return m;
  }

  /** The config of a model directory, read only (to check lengths before a run starts). */
  static ModelConfig modelConfig(Path model) {
    if (!Files.isDirectory(model)) {
      throw new RlsrException(model + ": model directory not found");
    }
    return ModelConfig.read(HfModel.configFile(model)); // an adapter directory: its base's
  }

  /** Where a model directory's tokenizer is: itself, or an adapter directory's base when it has no tokenizer.json. */
  static Path tokenizerDir(Path model) {
    if (PeftAdapter.isAdapterDir(model) && !Files.isRegularFile(model.resolve(Tokenizer.TOKENIZER_JSON))) {
      return PeftAdapter.readConfig(model).baseModel();
    }
    return model;
  }

  /**
   * A sequence-length flag: the value given (refused above the model's max_position_embeddings), or, when not
   * given, {@code defaultLen} capped at that limit.
   */
  static int seqLen(Integer given, int defaultLen, ModelConfig c, Path configFile, String flag) {
    if (given == null) {
      return Math.min(defaultLen, c.maxPositions());
    }
    if (given > c.maxPositions()) {
      throw new RlsrException(flag + " " + given + " exceeds the model's max_position_embeddings " + c.maxPositions()
          + " (" + configFile + "): use " + flag + " " + c.maxPositions() + " or less");
    }
    return given;
  }

  /** Takes OUT/.rlsr.lock for this command (refused at once when another run holds it). */
  static RunLock lock(Path out, CommandSpec spec, PrintWriter log) {
    var parsed = spec.commandLine().getParseResult();
    String command = "rlsr " + (parsed == null ? spec.name() : String.join(" ", parsed.originalArgs()));
    return RunLock.acquire(out, command, log);
  }

  /** "4.1234" or "n/a" for a loss or reward that no step of this invocation produced. */
  static String num(double v) {
    return Double.isNaN(v) ? "n/a" : String.format("%.4f", v);
  }
}
