// Atomic checkpoints under OUT/checkpoints/step-N: a Hugging Face model directory plus the trainer state
// (optimizer moments, counters, the resolved run config). Each is written into a temporary directory, synced,
// and renamed into place; OUT/checkpoints/LATEST names the last complete one, so a crash mid-write leaves the
// previous checkpoint whole and resumable.
package dev.rlsr.policy.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.graph.PolicyGraph.OptimizerState;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.FileTrees;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

public final class Checkpoints {
  public static final String DIR = "checkpoints";
  public static final String LATEST = "LATEST";
  public static final String TRAINER_STATE = "trainer_state.json";
  public static final String OPTIMIZER = "optimizer.safetensors";
  public static final String RUN_CONFIG = "run_config.json";

  /** A checkpoint read back: weights, optimizer state and the trainer state JSON. */
  public record Loaded(Path dir, ModelWeights weights, OptimizerState optimizer, ObjectNode trainerState) {}

  private final Path outDir;

  public Checkpoints(Path outDir) {
    this.outDir = outDir;
  }

  public Path root() {
    return outDir.resolve(DIR);
  }

  /**
   * Writes checkpoint step-N atomically and points LATEST at it; keeps the newest {@code keepLast} checkpoints.
   * The run config goes into run_config.json and into the trainer state.
   */
  public Path save(long step, ModelWeights weights, Tokenizer tokenizer, OptimizerState optimizer,
      ObjectNode trainerState, ObjectNode runConfig, int keepLast) {
    String name = String.format("step-%08d", step);
    Path root = root();
    Path target = root.resolve(name);
    Path tmp = root.resolve("." + name + ".tmp-" + System.nanoTime());
    try {
      Files.createDirectories(root);
      Map<String, String> md = Map.of("rlsr.run_config", Json.MAPPER.writeValueAsString(runConfig));
      HfModel.save(tmp, weights, tokenizer, md);
      if (optimizer != null) {
        LinkedHashMap<String, FloatTensor> mv = new LinkedHashMap<>();
        optimizer.m().forEach((k, v) -> mv.put("m." + k, v));
        optimizer.v().forEach((k, v) -> mv.put("v." + k, v));
        Safetensors.write(tmp.resolve(OPTIMIZER), mv, Safetensors.DType.F32, Map.of("step", Long.toString(optimizer.step())));
      }
      ObjectNode state = trainerState.deepCopy();
      state.put("step", step);
      state.set("run_config", runConfig);
      Json.PRETTY.writeValue(tmp.resolve(TRAINER_STATE).toFile(), state);
      Json.PRETTY.writeValue(tmp.resolve(RUN_CONFIG).toFile(), runConfig);
      syncTree(tmp);
      if (Files.exists(target)) { // a re-run of the same step after a resume: replace the old copy
        FileTrees.deleteTree(target);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      writeAtomically(root.resolve(LATEST), name + "\n");
      prune(keepLast, name);
      return target;
    } catch (IOException e) {
      deleteQuietly(tmp);
      throw new RlsrException(target + ": cannot write checkpoint: " + e.getMessage(), e);
    }
  }

  /**
   * The checkpoint a run in this directory starts from: LATEST when resuming, none for a fresh run. A fresh run
   * over existing checkpoints is refused, so an earlier run is never overwritten by accident.
   */
  public Optional<Path> forRun(boolean resume) {
    Optional<Path> latest = latest();
    if (latest.isPresent() && !resume) {
      throw new RlsrException(outDir + " already holds checkpoints (" + latest.get().getFileName()
          + "): pass --resume to continue that run, or choose another --out");
    }
    return latest;
  }

  /** The checkpoint LATEST names, if any. */
  public Optional<Path> latest() {
    Path latest = root().resolve(LATEST);
    if (!Files.isRegularFile(latest)) {
      return Optional.empty();
    }
    try {
      String name = Files.readString(latest, StandardCharsets.UTF_8).trim();
      Path dir = root().resolve(name);
      if (!Files.isRegularFile(dir.resolve(TRAINER_STATE))) {
        throw new RlsrException(latest + ": names " + name + ", which is not a complete checkpoint");
      }
      return Optional.of(dir);
    } catch (IOException e) {
      throw new RlsrException(latest + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Reads a checkpoint written by {@link #save}, validating it against the expected architecture. */
  public static Loaded load(Path dir, ModelConfig expected) {
    ModelConfig c = ModelConfig.read(dir.resolve(HfModel.CONFIG));
    if (expected != null && !ModelWeights.layout(c).keySet().equals(ModelWeights.layout(expected).keySet())) {
      throw new RlsrException(dir + ": checkpoint architecture differs from the model being trained");
    }
    ModelWeights w = ModelWeights.fromLoaded(c, Safetensors.readModelDir(dir), dir.resolve(Safetensors.SINGLE_FILE).toString());
    ObjectNode state;
    try {
      JsonNode n = Json.MAPPER.readTree(dir.resolve(TRAINER_STATE).toFile());
      state = (ObjectNode) n;
    } catch (IOException | ClassCastException e) {
      throw new RlsrException(dir.resolve(TRAINER_STATE) + ": not a valid trainer state: " + e.getMessage());
    }
    OptimizerState opt = null;
    Path optFile = dir.resolve(OPTIMIZER);
    if (Files.isRegularFile(optFile)) {
      var all = Safetensors.read(optFile);
      LinkedHashMap<String, FloatTensor> m = new LinkedHashMap<>();
      LinkedHashMap<String, FloatTensor> v = new LinkedHashMap<>();
      for (String name : w.tensors().keySet()) {
        FloatTensor mt = all.get("m." + name);
        FloatTensor vt = all.get("v." + name);
        if (mt == null || vt == null) {
          throw new RlsrException(optFile + ": missing optimizer moments for \"" + name + "\"");
        }
        m.put(name, mt);
        v.put(name, vt);
      }
      opt = new OptimizerState(state.path("optimizer_step").asLong(state.path("step").asLong()), m, v);
    }
    return new Loaded(dir, w, opt, state);
  }

  /**
   * Copies the model files of a checkpoint into OUT itself (config.json, model.safetensors, tokenizer files,
   * generation_config.json, run_config.json), each file replaced atomically.
   */
  public void publish(Path checkpoint) {
    try (Stream<Path> files = Files.list(checkpoint)) {
      for (Path f : files.toList()) {
        String n = f.getFileName().toString();
        if (n.equals(OPTIMIZER) || n.equals(TRAINER_STATE) || Files.isDirectory(f)) {
          continue;
        }
        Path tmp = outDir.resolve("." + n + ".tmp");
        Files.copy(f, tmp, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
          ch.force(true);
        }
        Files.move(tmp, outDir.resolve(n), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new RlsrException(outDir + ": cannot publish the final model: " + e.getMessage(), e);
    }
  }

  /** Writes a small text file atomically (temp file, fsync, rename). */
  public static void writeAtomically(Path file, String content) throws IOException {
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private void prune(int keepLast, String justWritten) throws IOException {
    if (keepLast <= 0) {
      return;
    }
    List<Path> all;
    try (Stream<Path> s = Files.list(root())) {
      all = s.filter(p -> p.getFileName().toString().startsWith("step-") && Files.isDirectory(p))
          .sorted(Comparator.comparing(p -> p.getFileName().toString()))
          .toList();
    }
    for (int i = 0; i < all.size() - keepLast; i++) {
      if (!all.get(i).getFileName().toString().equals(justWritten)) {
        FileTrees.deleteTree(all.get(i));
      }
    }
  }

  private static void syncTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path f : s.toList()) {
        if (Files.isRegularFile(f)) {
          try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.force(true);
          }
        }
      }
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      if (Files.exists(dir)) {
        FileTrees.deleteTree(dir);
      }
    } catch (IOException ignored) {
      // best effort: a leftover .tmp directory is never read
    }
  }
}
