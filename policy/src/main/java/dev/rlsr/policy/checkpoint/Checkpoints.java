// Atomic checkpoints under OUT/checkpoints/step-N: a Hugging Face model directory plus the trainer state
// (optimizer moments, counters, the resolved run config). Each is written into a temporary directory, synced,
// and renamed into place; OUT/checkpoints/LATEST names the last complete one, so a crash mid-write leaves the
// previous checkpoint whole and resumable. Resume is strict: LATEST must name a complete checkpoint inside
// OUT/checkpoints, and the options that change the run's meaning must match its recorded run config
// (RunConfigCheck). The final model is staged in OUT/.final.tmp and moved into OUT with config.json last (FinalModel).
package dev.rlsr.policy.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.optim.AdamW;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.FileTrees;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

public final class Checkpoints {
  public static final String DIR = "checkpoints";
  public static final String LATEST = "LATEST";
  public static final String TRAINER_STATE = "trainer_state.json";
  public static final String OPTIMIZER = "optimizer.safetensors";
  public static final String RUN_CONFIG = "run_config.json";
  /** Where the final model files are staged before they are moved into OUT. */
  public static final String FINAL_TMP = ".final.tmp";
  /** The files every checkpoint has; resume refuses a checkpoint missing any of them. */
  public static final List<String> REQUIRED = List.of(HfModel.CONFIG, Safetensors.SINGLE_FILE, "tokenizer.json",
      HfModel.GENERATION_CONFIG, OPTIMIZER, TRAINER_STATE, RUN_CONFIG);
  /** The files every checkpoint of a LoRA run has (its model part is an adapter directory in PEFT's layout). */
  public static final List<String> REQUIRED_ADAPTER = List.of(PeftAdapter.CONFIG, PeftAdapter.WEIGHTS,
      "tokenizer.json", OPTIMIZER, TRAINER_STATE, RUN_CONFIG);
  /**
   * Run-config keys that may differ on resume: they change speed, logging or where checkpoints go, not the
   * weights a run ends with. Every other key (data and its hash, batch sizes, learning rate and schedule, steps,
   * seed, lengths, loss and RL settings, model path) must match unless --resume-override is given.
   */
  public static final Set<String> RESUME_FREE_KEYS = RunConfigCheck.FREE_KEYS;

  private static final Pattern STEP_NAME = Pattern.compile("step-[0-9]+");
  private static final Pattern TMP_CHECKPOINT = Pattern.compile("\\.step-[0-9]+\\.tmp-[0-9]+");

  /**
   * What a checkpoint writes of a run in progress, each part streamed one tensor at a time: the weights (the
   * layout of {@code config}, e.g. {@code PolicyGraph.variables()}; of a LoRA run the adapter,
   * {@code PolicyGraph.adapter()}, written as a PEFT adapter directory on {@code baseModel}) and the optimizer moments
   * ({@code AdamW.moments()}: m.NAME then v.NAME; null writes no optimizer.safetensors) after {@code optimizerStep}
   * steps.
   *
   * @param lora      the run's adapter; null for a full fine-tuning run (the whole model is saved)
   * @param baseModel the directory the adapter applies to (base_model_name_or_path); with an adapter only
   */
  public record Snapshot(ModelConfig config, TensorSource weights, TensorSource moments, long optimizerStep,
      LoraConfig lora, Path baseModel) {
    /** A full fine-tuning run's snapshot: the whole model. */
    public Snapshot(ModelConfig config, TensorSource weights, TensorSource moments, long optimizerStep) {
      this(config, weights, moments, optimizerStep, null, null);
    }
  }

  /**
   * A checkpoint read back, its tensors still in the files: the weights (checked against the layout), the optimizer
   * moments (null when the checkpoint has none) and the trainer state JSON. Restore from the sources
   * ({@code PolicyGraph.setWeights}, {@code AdamW.restore}), then close it.
   */
  public static final class Loaded implements AutoCloseable {
    private final Path dir;
    private final AutoCloseable weightFile;
    private final TensorSource weights;
    private final SafetensorsSource moments;
    private final long optimizerStep;
    private final ObjectNode trainerState;

    private Loaded(Path dir, AutoCloseable weightFile, TensorSource weights, SafetensorsSource moments,
        long optimizerStep, ObjectNode trainerState) {
      this.dir = dir;
      this.weightFile = weightFile;
      this.weights = weights;
      this.moments = moments;
      this.optimizerStep = optimizerStep;
      this.trainerState = trainerState;
    }

    public Path dir() {
      return dir;
    }

    /** The weights in layout order, read from model.safetensors one tensor per read (a LoRA run's: the adapter). */
    public TensorSource weights() {
      return weights;
    }

    /** The moments m.NAME / v.NAME of every weight, from optimizer.safetensors; null when there is none. */
    public TensorSource moments() {
      return moments;
    }

    /** Optimizer steps taken when the checkpoint was written. */
    public long optimizerStep() {
      return optimizerStep;
    }

    public ObjectNode trainerState() {
      return trainerState;
    }

    @Override
    public void close() {
      closeQuietly(weightFile);
      if (moments != null) {
        moments.close();
      }
    }
  }

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
  public Path save(long step, Snapshot snapshot, Tokenizer tokenizer, ObjectNode trainerState, ObjectNode runConfig,
      int keepLast) {
    String name = String.format("step-%08d", step);
    Path root = root();
    Path target = root.resolve(name);
    Path tmp = root.resolve("." + name + ".tmp-" + System.nanoTime());
    try {
      Files.createDirectories(root);
      Map<String, String> md = Map.of("rlsr.run_config", Json.MAPPER.writeValueAsString(runConfig));
      if (snapshot.lora() != null) {
        PeftAdapter.write(tmp, snapshot.config(), snapshot.lora(), snapshot.baseModel(), snapshot.weights(), tokenizer,
            md);
      } else {
        HfModel.save(tmp, snapshot.config(), snapshot.weights(), tokenizer, md);
      }
      if (snapshot.moments() != null) {
        Safetensors.write(tmp.resolve(OPTIMIZER), snapshot.moments(), Safetensors.DType.F32,
            Map.of("step", Long.toString(snapshot.optimizerStep())));
      }
      ObjectNode state = trainerState.deepCopy();
      state.put("step", step);
      state.set("run_config", runConfig);
      Json.PRETTY.writeValue(tmp.resolve(TRAINER_STATE).toFile(), state);
      Json.PRETTY.writeValue(tmp.resolve(RUN_CONFIG).toFile(), runConfig);
      DurableFiles.syncTree(tmp);
      if (Files.exists(target)) { // a re-run of the same step after a resume: replace the old copy
        FileTrees.deleteTree(target);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      DurableFiles.writeAtomically(root.resolve(LATEST), name + "\n");
      prune(keepLast, name);
      return target;
    } catch (IOException e) {
      deleteQuietly(tmp);
      throw new RlsrException(target + ": cannot write checkpoint: " + e.getMessage(), e);
    }
  }

  /**
   * The checkpoint a run in this directory starts from: LATEST when resuming, none for a fresh run. A fresh run
   * over existing checkpoints is refused, so an earlier run is never overwritten by accident; on resume LATEST must
   * name a complete checkpoint inside OUT/checkpoints (see {@link #latest}).
   */
  public Optional<Path> forRun(boolean resume) {
    Path latestFile = root().resolve(LATEST);
    List<String> steps = stepDirs();
    if (!resume) {
      if (Files.exists(latestFile, LinkOption.NOFOLLOW_LINKS) || !steps.isEmpty()) {
        String what = steps.isEmpty() ? LATEST : steps.get(steps.size() - 1);
        throw new RlsrException(outDir + " already holds checkpoints (" + what
            + "): pass --resume to continue that run, or choose another --out");
      }
      return Optional.empty();
    }
    Optional<Path> latest = latest();
    if (latest.isEmpty() && !steps.isEmpty()) {
      throw new RlsrException("--resume: " + root() + " holds " + steps.get(steps.size() - 1) + " but no " + LATEST
          + ": write the name of the checkpoint to continue from into " + latestFile + ", or choose another --out");
    }
    return latest;
  }

  /**
   * The checkpoint LATEST names, if any, checked for resuming: LATEST must name a directory step-N inside
   * OUT/checkpoints (no path separators, no "..", no symbolic link leading elsewhere) that holds every file of
   * {@link #REQUIRED}. Each refusal names the file and what to do.
   */
  public Optional<Path> latest() {
    Path latest = root().resolve(LATEST);
    if (!Files.exists(latest, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    if (!Files.isRegularFile(latest, LinkOption.NOFOLLOW_LINKS)) {
      throw new RlsrException(latest + ": not a regular file; it should hold the name of a checkpoint directory step-N");
    }
    String name;
    try {
      name = Files.readString(latest, StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new RlsrException(latest + ": cannot read: " + e.getMessage(), e);
    }
    if (!STEP_NAME.matcher(name).matches()) {
      throw new RlsrException(latest + ": names \"" + shorten(name) + "\", which is not a checkpoint directory step-N"
          + " inside " + root() + " (LATEST holds just the directory name, e.g. step-00000010)");
    }
    Path dir = root().resolve(name);
    if (!Files.isDirectory(dir)) {
      throw new RlsrException(latest + ": names " + name + ", but " + dir + " does not exist");
    }
    Path real = FileTrees.realPath(dir);
    if (!real.getParent().equals(FileTrees.realPath(root()))) {
      throw new RlsrException(latest + ": " + name + " leads to " + real + ", outside " + root()
          + " (a symbolic link); a checkpoint must be a directory inside " + root());
    }
    for (String f : PeftAdapter.isAdapterDir(dir) ? REQUIRED_ADAPTER : REQUIRED) {
      if (!Files.isRegularFile(dir.resolve(f), LinkOption.NOFOLLOW_LINKS)) {
        throw new RlsrException("--resume: checkpoint " + dir + " is incomplete: " + f + " is missing; restore it, "
            + "or write the name of an earlier complete checkpoint into " + latest + ", or start afresh in another --out");
      }
    }
    return Optional.of(dir);
  }

  /** Names of the complete checkpoint directories step-N, oldest first. */
  private List<String> stepDirs() {
    if (!Files.isDirectory(root())) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(root())) {
      return s.filter(Files::isDirectory).map(p -> p.getFileName().toString())
          .filter(n -> STEP_NAME.matcher(n).matches()).sorted().toList();
    } catch (IOException e) {
      throw new RlsrException(root() + ": cannot list: " + e.getMessage(), e);
    }
  }

  private static String shorten(String s) {
    String one = s.replaceAll("\\s+", " ");
    return one.length() > 80 ? one.substring(0, 80) + "..." : one;
  }

  /**
   * Compares the options of a resumed run with the run config recorded in its checkpoint. Keys in
   * {@link #RESUME_FREE_KEYS} may differ; any other difference is refused with the list of them, unless
   * {@code override} (--resume-override), which continues with a warning on {@code log}.
   *
   * @return the differences, as "key old -> new"
   */
  public static List<String> verifyRunConfig(Path checkpoint, ObjectNode current, boolean override, PrintWriter log) {
    return RunConfigCheck.verify(checkpoint, current, override, log);
  }

  /**
   * Records the training data file in a run config: {@code data_bytes} and {@code data_sha256} (when it is a
   * regular file), so a resume on changed data is caught before the data position is applied to it.
   */
  public static void recordData(ObjectNode runConfig, Path data) {
    RunConfigCheck.recordData(runConfig, data);
  }

  /**
   * Removes what an interrupted run leaves behind: temporary checkpoint directories (checkpoints/.step-N.tmp-*),
   * a half-written LATEST (checkpoints/.LATEST.tmp) and a half-staged final model (OUT/.final.tmp). Call it only
   * while holding the run lock.
   *
   * @return the paths removed
   */
  public List<Path> cleanTemporary(PrintWriter log) {
    List<Path> gone = new ArrayList<>();
    try {
      if (Files.isDirectory(root())) {
        try (Stream<Path> s = Files.list(root())) {
          for (Path p : s.toList()) {
            String n = p.getFileName().toString();
            if (TMP_CHECKPOINT.matcher(n).matches() || n.equals("." + LATEST + ".tmp")) {
              FileTrees.deleteTree(p);
              gone.add(p);
            }
          }
        }
      }
      Path staged = outDir.resolve(FINAL_TMP);
      if (Files.exists(staged, LinkOption.NOFOLLOW_LINKS)) {
        FileTrees.deleteTree(staged);
        gone.add(staged);
      }
    } catch (IOException e) {
      throw new RlsrException(outDir + ": cannot remove the temporary files of an interrupted run: " + e.getMessage(), e);
    }
    if (!gone.isEmpty() && log != null) {
      log.println("removed what an interrupted run left: " + gone.stream().map(p -> outDir.relativize(p).toString()).toList());
    }
    return gone;
  }

  /**
   * Opens a checkpoint written by {@link #save}, validating it against the expected architecture: config.json, the
   * headers of model.safetensors and optimizer.safetensors (every weight present with its shape, both moments of
   * every weight) and the trainer state are checked now; the tensors are read only when restored.
   */
  public static Loaded load(Path dir, ModelConfig expected) {
    return load(dir, expected, null);
  }

  /**
   * {@link #load(Path, ModelConfig)} for a run with adapter {@code lora} (null: full fine-tuning): its checkpoints
   * hold the adapter (adapter_config.json, adapter_model.safetensors, checked against {@code lora} on
   * {@code expected}), and {@link Loaded#weights} gives the adapter's tensors in rlsr names. A full checkpoint for a
   * LoRA run, or an adapter checkpoint for a full run, is refused.
   */
  public static Loaded load(Path dir, ModelConfig expected, LoraConfig lora) {
    boolean isAdapter = PeftAdapter.isAdapterDir(dir);
    if (isAdapter != (lora != null)) {
      throw new RlsrException("--resume: " + dir + (isAdapter ? " holds a LoRA adapter (" + PeftAdapter.CONFIG
          + "), this run trains every weight (--lora-r 0)" : " holds a whole model, this run trains a LoRA adapter"
          + " (--lora-r " + lora.r() + ")") + "; resume with the run's own flags, or choose another --out");
    }
    AutoCloseable file;
    TensorSource w;
    if (lora != null) {
      PeftAdapter.Spec spec = PeftAdapter.readConfig(dir);
      LoraConfig have = spec.lora(); // the dropout may differ (--resume-override): it changes no tensor
      if (have.r() != lora.r() || have.alpha() != lora.alpha() || !have.targetModules().equals(lora.targetModules())) {
        throw new RlsrException("--resume: " + dir.resolve(PeftAdapter.CONFIG) + " is an adapter of " + spec.lora()
            + ", this run trains " + lora);
      }
      PeftAdapter.Opened opened = PeftAdapter.open(dir, expected, lora);
      file = opened;
      w = opened.tensors();
    } else {
      ModelConfig c = ModelConfig.read(dir.resolve(HfModel.CONFIG));
      if (expected != null && !ModelWeights.layout(c).keySet().equals(ModelWeights.layout(expected).keySet())) {
        throw new RlsrException(dir + ": checkpoint architecture differs from the model being trained");
      }
      SafetensorsSource f = SafetensorsSource.openModelDir(dir);
      file = f;
      try {
        w = ModelWeights.checkedLayout(c, f, dir.resolve(Safetensors.SINGLE_FILE).toString());
      } catch (RuntimeException e) {
        f.close();
        throw e;
      }
    }
    SafetensorsSource moments = null;
    try {
      ObjectNode state;
      try {
        JsonNode n = Json.MAPPER.readTree(dir.resolve(TRAINER_STATE).toFile());
        state = (ObjectNode) n;
      } catch (IOException | ClassCastException e) {
        throw new RlsrException(dir.resolve(TRAINER_STATE) + ": not a valid trainer state: " + e.getMessage());
      }
      Path optFile = dir.resolve(OPTIMIZER);
      if (Files.isRegularFile(optFile)) {
        moments = SafetensorsSource.open(optFile);
        LinkedHashMap<String, long[]> have = moments.shapes();
        for (var e : w.shapes().entrySet()) {
          String name = e.getKey();
          long[] m = have.get(AdamW.firstMoment(name));
          long[] v = have.get(AdamW.secondMoment(name));
          if (m == null || v == null) {
            throw new RlsrException(optFile + ": missing optimizer moments for \"" + name + "\"");
          }
          if (!java.util.Arrays.equals(m, e.getValue()) || !java.util.Arrays.equals(v, e.getValue())) {
            throw new RlsrException(optFile + ": optimizer moments of \"" + name + "\" have shapes "
                + java.util.Arrays.toString(m) + " and " + java.util.Arrays.toString(v) + ", the weight has "
                + java.util.Arrays.toString(e.getValue()));
          }
        }
      }
      long optimizerStep = state.path("optimizer_step").asLong(state.path("step").asLong());
      return new Loaded(dir, file, w, moments, optimizerStep, state);
    } catch (RuntimeException e) {
      closeQuietly(file);
      if (moments != null) {
        moments.close();
      }
      throw e;
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // closing a read-only file: nothing to recover
    }
  }

  /**
   * Copies the model files of a checkpoint into OUT itself (config.json, model.safetensors, tokenizer files,
   * generation_config.json, run_config.json), all or nothing as far as a loader can tell: every file is first
   * staged (and synced) in OUT/.final.tmp, then an older config.json in OUT is removed, the other files are moved
   * into place, and config.json comes last. Until it appears, OUT is not a model directory; a kill on the way leaves
   * OUT without config.json and the checkpoint whole, and resuming publishes again.
   */
  public void publish(Path checkpoint) {
    FinalModel.publish(outDir, checkpoint, f -> {});
  }

  /** Writes a small text file atomically (temp file, fsync, rename). */
  public static void writeAtomically(Path file, String content) throws IOException {
    DurableFiles.writeAtomically(file, content);
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
