// The Spark engine on a standalone cluster: a master and two workers as separate JVMs on 127.0.0.1, so executors
// are processes of their own. The same results as the local engine; an executor killed mid-iteration changes
// nothing; an executor that cannot load ONNX Runtime ends the run naming it.
package dev.rlsr.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300)
class SparkStandaloneTest {
  private static final Map<String, String> DRIVER_CONF = Map.of(
      "spark.driver.host", "127.0.0.1",
      "spark.driver.bindAddress", "127.0.0.1",
      "spark.executor.memory", "1g",
      "spark.executor.extraClassPath", StandaloneCluster.executorClassPath());

  @TempDir static Path tmp;
  StandaloneCluster cluster;
  Path model;
  Path data;
  Path local;

  @BeforeAll
  void start() throws Exception {
    model = Runs.model(tmp.resolve("m"));
    data = Runs.data(tmp);
    local = tmp.resolve("local");
    var r = Runs.cli(Runs.train(model, data, local, "--generation-batch-size", "4"));
    assertThat(r.code()).as(r.err()).isZero();
    cluster = new StandaloneCluster(tmp.resolve("cluster"), 2, "2g");
    cluster.awaitWorkers(2, 60_000);
    DRIVER_CONF.forEach(System::setProperty);
  }

  @AfterEach
  void dropTestConf() {
    System.clearProperty("spark.executor.extraJavaOptions");
  }

  @AfterAll
  void stop() throws Exception {
    DRIVER_CONF.keySet().forEach(System::clearProperty);
    if (cluster != null) {
      cluster.close();
    }
  }

  private List<String> sparkTrain(Path out) {
    return Runs.train(model, data, out, "--rollout-engine", "spark", "--spark-master", cluster.masterUrl,
        "--rollout-partitions", "3");
  }

  @Test
  void twoWorkersGiveTheLocalEnginesResultAndAKilledExecutorChangesNothing() throws Exception {
    Path spark = tmp.resolve("standalone");
    var r = Runs.cli(sparkTrain(spark));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Runs.completions(spark)).hasSize(36).containsExactlyElementsOf(Runs.completions(local));
    assertThat(Runs.maxWeightDiff(local, spark)).as("max |w_local - w_spark|").isLessThanOrEqualTo(1e-5);
    assertThat(cluster.executorLogContaining("rlsr spark task: iteration 3")).as("the tasks ran on executor JVMs")
        .isPresent();

    // the same run again, the weights as files; when an executor starts a task of iteration 2 it is killed (SIGKILL)
    Path killedRun = tmp.resolve("killed");
    List<Path> earlier = cluster.executorLogs(); // the first run's executors (gone now)
    AtomicLong killed = new AtomicLong(-1);
    Thread killer = new Thread(() -> {
      Pattern task = Pattern.compile("rlsr spark task: iteration 2, .* \\(pid (\\d+)\\)");
      long deadline = System.currentTimeMillis() + 240_000;
      try {
        while (killed.get() < 0 && System.currentTimeMillis() < deadline) {
          for (Path log : cluster.executorLogs()) {
            if (earlier.contains(log)) {
              continue;
            }
            Matcher m = task.matcher(Files.readString(log));
            if (m.find()) {
              long pid = Long.parseLong(m.group(1));
              ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
              killed.set(pid);
              break;
            }
          }
          Thread.sleep(20);
        }
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    killer.start();
    List<String> args = new java.util.ArrayList<>(sparkTrain(killedRun));
    args.addAll(List.of("--spark-weights-dir", tmp.resolve("weights-dir").toString())); // the file path this time
    r = Runs.cli(args);
    killer.join();
    assertThat(killed.get()).as("an executor was killed during iteration 2").isPositive();
    assertThat(ProcessHandle.of(killed.get())).as("the killed executor is gone").isEmpty();
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Runs.completions(killedRun)).containsExactlyElementsOf(Runs.completions(local));
    assertThat(Runs.maxWeightDiff(local, killedRun)).isLessThanOrEqualTo(1e-5);
  }

  @Test
  void anExecutorThatCannotLoadOnnxRuntimeEndsTheRunNamingIt() throws Exception {
    System.setProperty("spark.executor.extraJavaOptions", "-Donnxruntime.native.path=" + tmp.resolve("no-such-dir"));
    Path out = tmp.resolve("no-ort");
    var r = Runs.cli(sparkTrain(out));
    assertThat(r.code()).isNotZero();
    System.out.println("the run's last words: " + r.err().strip().lines().reduce((x, y) -> y).orElse(""));
    assertThat(r.err()).contains("spark: the rollouts of iteration 1 failed").contains("cannot load ONNX Runtime")
        .contains("executor");
    assertThat(out.resolve("checkpoints").resolve("LATEST")).doesNotExist();
  }
}
