// The Spark engine in local mode (--spark-master local[2]) against the local engine: the same completions, rewards
// and final weights whatever the partitioning; --resume across engines; the failures that must name their cause.
package dev.rlsr.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.train.MetricsLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SparkLocalModeTest {
  @TempDir static Path tmp;
  Path model;
  Path data;
  Path local;

  @BeforeAll
  void localRun() throws Exception {
    model = Runs.model(tmp.resolve("m"));
    data = Runs.data(tmp);
    local = tmp.resolve("local");
    // one prompt group (G rows) per sampling call: the unit a Spark task computes by default
    var r = Runs.cli(Runs.train(model, data, local, "--generation-batch-size", "4"));
    assertThat(r.code()).as(r.err()).isZero();
  }

  @Test
  void local2GivesTheLocalEnginesCompletionsRewardsAndWeightsWhateverThePartitioning() {
    for (String partitions : List.of("2", "3", "1")) {
      Path spark = tmp.resolve("spark-" + partitions);
      var r = Runs.cli(Runs.train(model, data, spark, "--rollout-engine", "spark", "--spark-master", "local[2]",
          "--rollout-partitions", partitions));
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(Runs.completions(spark)).as("every row's tokens (decoded) and reward, %s partitions", partitions)
          .hasSize(36).containsExactlyElementsOf(Runs.completions(local));
      assertThat(Runs.maxWeightDiff(local, spark)).as("max |w_local - w_spark|").isLessThanOrEqualTo(1e-5);
      List<JsonNode> metrics = MetricsLog.read(spark.resolve("metrics.jsonl"));
      assertThat(metrics).hasSize(3);
      assertThat(metrics.get(2).get("spark_tasks").asInt()).isEqualTo(Integer.parseInt(partitions));
      assertThat(metrics.get(2).get("spark_broadcast_mb").asDouble()).isPositive();
      assertThat(metrics.get(2).has("spark_overhead_seconds")).isTrue();
    }
  }

  @Test
  void weightsThroughADirectoryGiveTheSameRunAndLeaveNothingThere() throws Exception {
    Path dir = tmp.resolve("weights-dir");
    Path spark = tmp.resolve("spark-files");
    var r = Runs.cli(Runs.train(model, data, spark, "--rollout-engine", "spark", "--spark-master", "local[2]",
        "--spark-weights-dir", dir.toString()));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("weights as a file in " + dir.toAbsolutePath());
    assertThat(Runs.completions(spark)).containsExactlyElementsOf(Runs.completions(local));
    assertThat(Runs.maxWeightDiff(local, spark)).isLessThanOrEqualTo(1e-5);
    try (var left = Files.list(dir)) {
      assertThat(left.toList()).as("the run's weights files are removed at its end").isEmpty();
    }
  }

  @Test
  void resumeContinuesOnEitherEngine() throws Exception {
    // a local run stopped after iteration 1 resumes on Spark, a Spark run stopped after 2 resumes locally
    Path a = tmp.resolve("local-then-spark");
    var r = Runs.cli(Runs.train(model, data, a, "--generation-batch-size", "4"));
    assertThat(r.code()).as(r.err()).isZero();
    Runs.rewindTo(a, 1);
    r = Runs.cli(Runs.train(model, data, a, "--generation-batch-size", "4", "--rollout-engine", "spark",
        "--spark-master", "local[2]", "--resume"));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("resumed from");
    assertThat(Runs.maxWeightDiff(local, a)).isLessThanOrEqualTo(1e-5);
    assertThat(Runs.completions(a)).containsExactlyElementsOf(Runs.completions(local));

    Path b = tmp.resolve("spark-then-local");
    r = Runs.cli(Runs.train(model, data, b, "--generation-batch-size", "4", "--rollout-engine", "spark",
        "--spark-master", "local[2]"));
    assertThat(r.code()).as(r.err()).isZero();
    Runs.rewindTo(b, 2);
    r = Runs.cli(Runs.train(model, data, b, "--generation-batch-size", "4", "--resume"));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Runs.maxWeightDiff(local, b)).isLessThanOrEqualTo(1e-5);
    assertThat(Runs.completions(b)).containsExactlyElementsOf(Runs.completions(local));
  }

  @Test
  void anUnreachableMasterEndsTheRunNamingIt() {
    Path out = tmp.resolve("unreachable");
    var r = Runs.cli(Runs.train(model, data, out, "--rollout-engine", "spark", "--spark-master",
        "spark://127.0.0.1:9"));
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--spark-master spark://127.0.0.1:9: cannot reach the Spark master at 127.0.0.1:9");
    assertThat(out.resolve("checkpoints")).doesNotExist();
  }

  @Test
  void sparkFlagsWithoutTheSparkEngineAreRefused() throws Exception {
    var r = Runs.cli(Runs.train(model, data, tmp.resolve("x"), "--spark-master", "local[2]"));
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--spark-master, --rollout-partitions and --spark-weights-dir apply to "
        + "--rollout-engine spark");
    r = Runs.cli(Runs.train(model, data, tmp.resolve("y"), "--rollout-engine", "ray"));
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--rollout-engine takes local or spark, got ray");
    assertThat(Files.exists(tmp.resolve("y").resolve("checkpoints"))).isFalse();
    Path file = Files.writeString(tmp.resolve("a-file"), "");
    r = Runs.cli(Runs.train(model, data, tmp.resolve("z"), "--rollout-engine", "spark", "--spark-weights-dir",
        file.toString()));
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--spark-weights-dir " + file + " is a file");
    assertThat(tmp.resolve("z")).as("refused before anything is written").doesNotExist();
  }
}
