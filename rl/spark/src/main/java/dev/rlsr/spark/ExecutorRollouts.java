// The executor side of the Spark engine: one ONNX Runtime policy session, reward embedder and tokenizer per executor
// JVM, cached across iterations and brought to each new weights version once.
package dev.rlsr.spark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.export.Device;
import dev.rlsr.export.ExportDtype;
import dev.rlsr.export.runtime.EngineOptions;
import dev.rlsr.export.runtime.RolloutEngines;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.FileTrees;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.rl.rollout.RolloutUnit;
import dev.rlsr.rl.rollout.ScoredUnit;
import dev.rlsr.rl.rollout.UnitRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One per executor JVM (in {@code local[N]} mode: in the driver's JVM). Tasks of one executor take turns on it: the
 * session's intra-op threads ({@code --threads}) use the executor's cores, so give an executor one task slot
 * ({@code spark.task.cpus} = {@code spark.executor.cores}) and {@code --threads} those cores.
 */
final class ExecutorRollouts implements AutoCloseable {
  /**
   * A unit's result, with what this executor spent bringing its session to the unit's weights (0 when it was
   * current): fetching the broadcast (blocks from the driver or other executors, deserialized) and the sync itself.
   */
  record Done(ScoredUnit unit, double startSeconds, double fetchSeconds, double syncSeconds, String executor)
      implements java.io.Serializable {}

  private static ExecutorRollouts current;

  private final RunSpec spec;
  private final String where = where(); // this executor, named in every result and message
  private final Tokenizer tok;
  private final Path tokenizerDir;
  private final SentenceEmbedder embedder;
  private final EmbeddingReward reward;
  private RolloutEngine engine;
  private long version = -1;
  private double startSeconds; // making this worker (tokenizer, reward embedder), reported with its first unit

  /** This JVM's worker for {@code spec}'s run; a worker of an earlier run is closed first. */
  static synchronized ExecutorRollouts forRun(RunSpec spec) {
    if (current != null && !current.spec.runId().equals(spec.runId())) {
      current.close();
      current = null;
    }
    if (current == null) {
      current = new ExecutorRollouts(spec);
    }
    return current;
  }

  /** Closes this JVM's worker, if any (the driver does it in local mode, where the executor is its own JVM). */
  static synchronized void closeCurrent() {
    if (current != null) {
      current.close();
      current = null;
    }
  }

  private ExecutorRollouts(RunSpec spec) {
    long t0 = System.nanoTime();
    this.spec = spec;
    try { // first, so that an executor without a loadable native library says so in these words
      ai.onnxruntime.OrtEnvironment.getEnvironment();
    } catch (LinkageError | RuntimeException e) {
      throw new RlsrException(where + ": cannot load ONNX Runtime (" + e + (e.getCause() == null ? ""
          : "; " + e.getCause()) + "); the executors need its native library for their platform, which the "
          + "onnxruntime jar (inside the rlsr-spark -all jar) carries for linux-x86_64", e);
    }
    try {
      tokenizerDir = Files.createTempDirectory("rlsr-spark-tokenizer-");
      for (Map.Entry<String, byte[]> f : spec.tokenizerFiles().entrySet()) {
        Files.write(tokenizerDir.resolve(f.getKey()), f.getValue());
      }
    } catch (IOException e) {
      throw new RlsrException(where + ": cannot write the tokenizer files to a temporary directory: " + e, e);
    }
    Tokenizer t = null;
    try {
      t = Tokenizer.load(tokenizerDir);
      embedder = SentenceEmbedder.load(spec.embedder(), spec.threads(), SentenceEmbedder.DEFAULT_BATCH_SIZE,
          spec.embedderPrompt());
    } catch (RuntimeException | LinkageError e) {
      if (t != null) {
        t.close();
      }
      deleteTokenizerDir();
      if (t == null) {
        throw e; // the tokenizer's own message names its file
      }
      throw new RlsrException(where + ": cannot load the reward encoder --embedder " + spec.embedder()
          + " (a directory must be readable at that path on every executor): " + e, e);
    }
    tok = t;
    reward = new EmbeddingReward(embedder);
    startSeconds = (System.nanoTime() - t0) / 1e9;
  }

  /**
   * Computes {@code units} of iteration {@code iteration} on the weights of {@code weights}, which this executor
   * opens only when its session is on another version; with LoRA, {@code base} gives the frozen base, opened once.
   */
  synchronized List<Done> run(int iteration, List<RolloutUnit> units, WeightsRef weights, WeightsRef base) {
    double fetch = 0;
    double sync = 0;
    if (version != weights.version()) {
      long t = System.nanoTime();
      WeightsRef.Opened b = engine == null && base != null ? base.open() : null; // LoRA: the frozen base, once
      try (WeightsRef.Opened w = weights.open()) {
        fetch = (System.nanoTime() - t) / 1e9;
        t = System.nanoTime();
        bringTo(w.tensors(), b == null ? null : b.tensors(), weights.version());
        sync = (System.nanoTime() - t) / 1e9;
      } finally {
        if (b != null) {
          b.close();
        }
      }
    }
    List<Done> out = new ArrayList<>(units.size());
    for (RolloutUnit u : units) {
      ScoredUnit s = UnitRunner.run(engine, tok, reward::score, spec.sampling(), spec.seed(), iteration, u);
      out.add(new Done(s, startSeconds, fetch, sync, where));
      startSeconds = 0;
      fetch = 0;
      sync = 0;
    }
    return out;
  }

  private void bringTo(dev.rlsr.policy.model.TensorSource w, dev.rlsr.policy.model.TensorSource base, long v) {
    try {
      if (engine == null) {
        ModelConfig config = ModelConfig.fromJson((ObjectNode) Json.MAPPER.readTree(spec.configJson()),
            "config.json of the Spark run " + spec.runId());
        EngineOptions o = EngineOptions.of(spec.threads(), Device.parse(spec.device()))
            .withDtype(ExportDtype.valueOf(spec.rolloutDtype())).withMetadata(spec.metadata());
        if (spec.lora() != null) { // the session over the frozen base, made once; syncs move the adapter
          engine = RolloutEngines.open(RolloutEngines.Backend.ONNX, config, base, o.withLora(spec.lora()));
          engine.sync(w);
        } else {
          engine = RolloutEngines.open(RolloutEngines.Backend.ONNX, config, w, o);
        }
      } else {
        if (spec.lora() == null) {
          engine.release(); // the old session goes before the new one is made: one model's session at a time
        }
        engine.sync(w);
      }
      version = v;
    } catch (IOException e) {
      throw new RlsrException(where + ": the run's config.json does not parse: " + e, e);
    }
  }

  /** This executor, for messages: its Spark id and host. */
  static String where() {
    org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
    String id = env == null ? "?" : env.executorId();
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "?";
    }
    return "executor " + id + " on " + host + " (pid " + ProcessHandle.current().pid() + ")";
  }

  @Override
  public synchronized void close() {
    try {
      if (engine != null) {
        engine.close();
      }
      embedder.close();
      tok.close();
    } finally {
      deleteTokenizerDir();
    }
  }

  private void deleteTokenizerDir() {
    try {
      FileTrees.deleteTree(tokenizerDir);
    } catch (IOException | RuntimeException ignored) {
      // a temporary directory; the executor's cleanup removes it otherwise
    }
  }
}
