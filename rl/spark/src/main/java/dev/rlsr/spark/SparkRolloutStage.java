// `--rollout-engine spark`: each iteration's rollout units as Spark tasks. Executors sample and score them on their
// cached ONNX Runtime session and reward embedder; the weights reach them as one broadcast per iteration; the
// TensorFlow update stays on the driver (this process).
package dev.rlsr.spark;

import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.rl.GrpoConfig;
import dev.rlsr.rl.rollout.RolloutStage;
import dev.rlsr.rl.rollout.RolloutUnit;
import dev.rlsr.rl.rollout.ScoredUnit;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import dev.rlsr.policy.checkpoint.Safetensors;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Determinism: a unit's rows draw from seeds of (run seed, iteration, prompt slot, completion index) and a unit is
 * computed by the same {@code UnitRunner} the local engine runs, so the results do not depend on the partitioning,
 * on which executor runs a unit, or on a retry after a lost executor. A task is a pure function of its units and
 * the iteration's weights broadcast.
 */
final class SparkRolloutStage implements RolloutStage {
  /** Tokenizer files an executor needs to decode completions (whatever of them the directory has). */
  static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
      "special_tokens_map.json", "generation_config.json", "config.json", "chat_template.jinja");

  private final JavaSparkContext sc;
  private final PrintWriter log;
  private final boolean lora;
  private final int partitions;
  private final Broadcast<RunSpec> spec;
  private final Path weightsDir;      // --spark-weights-dir/RUN-ID, or null: the weights are broadcast variables
  private final WeightsRef base;      // LoRA: the frozen base, sent once; else null
  private WeightsRef weights;         // the current version: full weights, or the adapter
  private final List<Runnable> dropBase = new ArrayList<>();
  private Runnable dropWeights = () -> {};
  private long version;
  private double lastBroadcastSeconds; // copying the weights out of the graph and handing them to Spark (or the file)
  private double lastCopySeconds;      // of which the copy
  private long lastBroadcastBytes;
  private long baseBytes; // LoRA: the frozen base's broadcast, held for the whole run

  SparkRolloutStage(Context c) {
    GrpoConfig cfg = c.cfg();
    this.log = c.log();
    this.lora = cfg.lora() != null;
    this.partitions = cfg.rolloutPartitions();
    this.weightsDir = cfg.sparkWeightsDir() == null ? null
        : cfg.sparkWeightsDir().toAbsolutePath().resolve("rlsr-" + UUID.randomUUID());
    SparkConf conf = new SparkConf().setAppName("rlsr train " + cfg.out().getFileName());
    if (cfg.sparkMaster() != null) {
      conf.setMaster(cfg.sparkMaster());
    } else if (!conf.contains("spark.master")) {
      conf.setMaster("local[*]");
    }
    // float32 weights barely compress: at 0.5B lz4 took the driver's broadcast from 21.6 s to 30.0 s and saved the
    // executors nothing (23.4 s against 22.9 s to fetch); --conf spark.broadcast.compress=true restores Spark's default
    conf.setIfMissing("spark.broadcast.compress", "false");
    String master = conf.get("spark.master");
    checkReachable(master);
    log.println("spark: starting the driver's SparkContext on " + master);
    try {
      sc = new JavaSparkContext(conf);
    } catch (RuntimeException e) {
      throw new RlsrException("--spark-master " + master + ": cannot start a SparkContext: " + e.getMessage(), e);
    }
    try {
      sc.setLogLevel("WARN");
      var lc = cfg.lora();
      if (weightsDir != null) {
        try {
          Files.createDirectories(weightsDir);
        } catch (IOException e) {
          throw new RlsrException("--spark-weights-dir " + cfg.sparkWeightsDir() + ": cannot create " + weightsDir
              + ": " + e.getMessage(), e);
        }
      }
      RunSpec s = new RunSpec(UUID.randomUUID().toString(), c.model().raw().toString(), tokenizerFiles(c.tokenizerDir()),
          cfg.embedder(), cfg.embedderPrompt(), cfg.threads(), cfg.device().flag(), cfg.rolloutDtype().name(),
          lc == null ? 0 : lc.r(), lc == null ? 0 : lc.alpha(), lc == null ? List.of() : lc.targetModules(),
          c.sampling(), cfg.seed(), new LinkedHashMap<>(c.metadata()));
      spec = sc.broadcast(s);
      if (lora) {
        // the adapter of version 0 comes with the trainer's first sync
        base = publish(0, c.weights(), "base", dropBase::add);
        baseBytes = lastBroadcastBytes;
        weights = null;
        version = -1;
      } else {
        base = null;
        weights = publish(0, c.weights(), "weights-0", r -> dropWeights = r);
        version = 0;
      }
      String what = (lora ? "frozen base weights" : "weights")
          + (weightsDir == null ? " as a broadcast variable" : " as a file in " + weightsDir);
      log.printf("spark: the %s (%.1f MB) sent in %.2f s (%.2f s of it copying them out of the graph)%n", what,
          lastBroadcastBytes / 1e6, lastBroadcastSeconds, lastCopySeconds);
    } catch (RuntimeException e) {
      try {
        if (weightsDir != null) {
          dev.rlsr.policy.util.FileTrees.deleteTree(weightsDir);
        }
      } catch (IOException ignored) {
        // the error below is the one to report
      } finally {
        sc.stop();
      }
      throw e;
    }
  }

  /**
   * Sends one version of {@code source} to the executors: as a broadcast variable, or written to a file in the
   * weights directory (streamed tensor by tensor, written then renamed) whose path alone travels. {@code drop}
   * receives how to free it again.
   */
  private WeightsRef publish(long v, TensorSource source, String name, java.util.function.Consumer<Runnable> drop) {
    long t = System.nanoTime();
    if (weightsDir == null) {
      WeightsMessage m = WeightsMessage.of(v, source);
      lastCopySeconds = (System.nanoTime() - t) / 1e9;
      Broadcast<WeightsMessage> b = sc.broadcast(m);
      lastBroadcastSeconds = (System.nanoTime() - t) / 1e9;
      lastBroadcastBytes = m.bytes();
      drop.accept(b::destroy);
      return new WeightsRef.Broadcasted(b, v);
    }
    Path file = weightsDir.resolve(name + ".safetensors");
    Path tmp = weightsDir.resolve("." + name + ".safetensors.tmp");
    try {
      Safetensors.write(tmp, source, Safetensors.DType.F32, Map.of("rlsr.weights_version", String.valueOf(v)));
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      lastBroadcastBytes = Files.size(file);
    } catch (IOException e) {
      throw new RlsrException("--spark-weights-dir: cannot write " + file + ": " + e.getMessage(), e);
    }
    lastCopySeconds = (System.nanoTime() - t) / 1e9;
    lastBroadcastSeconds = lastCopySeconds;
    drop.accept(() -> {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // removed with the run's directory at close
      }
    });
    return new WeightsRef.File(file.toString(), v);
  }

  @Override
  public Result run(int iteration, List<RolloutUnit> units) {
    if (weights == null) {
      throw new IllegalStateException("a LoRA Spark stage needs the adapter (sync) before the first rollouts");
    }
    int slices = partitions > 0 ? partitions : Math.min(units.size(), sc.defaultParallelism());
    slices = Math.max(1, Math.min(slices, units.size()));
    long t = System.nanoTime();
    List<ExecutorRollouts.Done> done;
    try {
      sc.setJobDescription("rlsr iteration " + (iteration + 1) + ": " + units.size() + " rollout units");
      done = sc.parallelize(units, slices)
          .mapPartitions(new UnitTask(iteration, spec, weights, base))
          .collect();
    } catch (Exception e) { // SparkException is checked in Scala's sense only: javac does not see it thrown
      String why = rootMessage(e);
      throw new RlsrException("spark: the rollouts of iteration " + (iteration + 1) + " failed: " + why + hint(why)
          + " (the last checkpoint is whole: --resume continues from it on either engine)", e);
    }
    double job = (System.nanoTime() - t) / 1e9;
    List<ExecutorRollouts.Done> sorted = new ArrayList<>(done);
    sorted.sort(Comparator.comparingInt(d -> d.unit().index()));
    if (sorted.size() != units.size()) {
      throw new RlsrException("spark: iteration " + (iteration + 1) + " returned " + sorted.size() + " of "
          + units.size() + " rollout units");
    }
    List<ScoredUnit> out = new ArrayList<>();
    double taskSeconds = 0;
    double syncSeconds = 0;
    double fetchSeconds = 0;
    double startSeconds = 0;
    Map<String, Double> perExecutor = new TreeMap<>();
    for (ExecutorRollouts.Done d : sorted) {
      out.add(d.unit());
      double s = d.unit().rolloutSeconds() + d.unit().rewardSeconds() + d.startSeconds() + d.fetchSeconds()
          + d.syncSeconds();
      taskSeconds += s;
      startSeconds += d.startSeconds();
      fetchSeconds += d.fetchSeconds();
      syncSeconds += d.syncSeconds();
      perExecutor.merge(d.executor(), s, Double::sum);
    }
    double busiest = perExecutor.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("spark_job_seconds", job);
    m.put("spark_executor_seconds", taskSeconds);
    m.put("spark_executor_start_seconds", startSeconds); // first iteration: executors load tokenizer and embedder
    m.put("spark_executor_fetch_seconds", fetchSeconds); // the broadcast's arrival, summed over executors
    m.put("spark_executor_sync_seconds", syncSeconds);   // their sessions taking it
    // what the job took beyond its busiest executor's work: scheduling, task and result (de)serialization, fetching
    m.put("spark_overhead_seconds", Math.max(0, job - busiest));
    m.put("spark_broadcast_seconds", lastBroadcastSeconds);
    m.put("spark_broadcast_copy_seconds", lastCopySeconds);
    m.put("spark_broadcast_mb", lastBroadcastBytes / 1e6);
    m.put("spark_tasks", (double) slices);
    m.put("spark_executors", (double) perExecutor.size());
    return new Result(out, m);
  }

  /** What to do about the failures whose fix is known: executors without rlsr's classes, or out of heap. */
  private String hint(String why) {
    if (why.contains("ClassNotFoundException: dev.rlsr") || why.contains("NoClassDefFoundError: dev/rlsr")) {
      return "; the executors do not have rlsr's classes: spark-submit rl/spark/target/rlsr-spark-0.1.0-SNAPSHOT-all.jar"
          + " (mvn -Pspark-dist package), or give them this class path (spark.executor.extraClassPath)";
    }
    if (why.contains("exited with code 52") || why.contains("OutOfMemoryError")) { // 52: Spark's OOM exit code
      return "; an executor ran out of Java heap, so raise spark.executor.memory" + (weightsDir != null ? ""
          : String.format(": it holds the weights broadcast twice (its pieces and the value, %.1f GB here), or send"
              + " them as files with --spark-weights-dir", 2 * (baseBytes + lastBroadcastBytes) / 1e9));
    }
    return "";
  }

  @Override
  public void sync(TensorSource w) {
    // no task needs the last version any more: the driver and the executors drop it before the next is made, so
    // each holds one version at a time (at 0.5B two broadcasts would be 8 GB of the driver's heap)
    dropWeights.run();
    dropWeights = () -> {};
    weights = null;
    version++;
    weights = publish(version, w, "weights-" + version, r -> dropWeights = r);
  }

  @Override
  public void close() {
    try {
      ExecutorRollouts.closeCurrent(); // local mode: the executor's worker lives in this JVM
      dropWeights.run();
      dropBase.forEach(Runnable::run);
      if (weightsDir != null) {
        dev.rlsr.policy.util.FileTrees.deleteTree(weightsDir);
      }
    } catch (IOException e) {
      log.println("spark: could not remove " + weightsDir + ": " + e.getMessage());
    } finally {
      sc.stop();
    }
  }

  /**
   * Fails fast, naming the URL, when no standalone master of {@code master} accepts connections (Spark itself would
   * retry for a minute and then stop with "All masters are unresponsive").
   */
  static void checkReachable(String master) {
    if (!master.startsWith("spark://")) {
      return;
    }
    List<String> failures = new ArrayList<>();
    for (String hostPort : master.substring("spark://".length()).split(",")) {
      URI u = URI.create("spark://" + hostPort);
      if (u.getHost() == null || u.getPort() < 0) {
        throw new RlsrException("--spark-master " + master + ": expected spark://HOST:PORT[,HOST:PORT...]");
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(u.getHost(), u.getPort()), 5000);
        return;
      } catch (IOException e) {
        failures.add(u.getHost() + ":" + u.getPort() + " (" + e.getMessage() + ")");
      }
    }
    throw new RlsrException("--spark-master " + master + ": cannot reach the Spark master at "
        + String.join(", ", failures) + "; start it (sbin/start-master.sh) or fix the URL");
  }

  private static Map<String, byte[]> tokenizerFiles(Path dir) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (String name : TOKENIZER_FILES) {
      Path f = dir.resolve(name);
      if (Files.isRegularFile(f)) {
        try {
          files.put(name, Files.readAllBytes(f));
        } catch (IOException e) {
          throw new RlsrException(f + ": cannot read it for the Spark executors: " + e.getMessage(), e);
        }
      }
    }
    return files;
  }

  /**
   * What Spark reports, without the remote stack trace it appends: for a task that failed past its retries "Job
   * aborted due to stage failure: Task 0 in stage 0.0 failed 4 times, most recent failure: Lost task ... (executor
   * N): " and the task's own exception, which names the cause.
   */
  static String rootMessage(Throwable e) {
    String msg = e.getMessage();
    if (msg == null) {
      return e.toString();
    }
    int trace = msg.indexOf("\n\tat ");
    return (trace < 0 ? msg : msg.substring(0, trace)).strip();
  }
}
