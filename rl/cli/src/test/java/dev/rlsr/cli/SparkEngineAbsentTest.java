// The default CLI carries no Spark: its class path has none, and `train --rollout-engine spark` there is refused
// with what to run instead, before anything is trained or written.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.testing.TinyCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparkEngineAbsentTest {
  @TempDir Path tmp;

  @Test
  void sparkIsNotOnTheCliClassPath() {
    assertThatThrownBy(() -> Class.forName("org.apache.spark.SparkConf")).isInstanceOf(ClassNotFoundException.class);
  }

  @Test
  void theSparkEngineWithoutItsModuleSaysWhatToRun() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.F32, 9);
    Path data = tmp.resolve("d.jsonl");
    Files.writeString(data, "{\"prompt\":\"sky?\",\"response\":\"blue\"}\n");
    Path out = tmp.resolve("out");
    var r = Cli.run("train", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
        "--iterations", "1", "--prompts-per-iteration", "1", "--num-generations", "2", "--max-completion-length", "4",
        "--threads", "1", "--rollout-engine", "spark");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--rollout-engine spark: the spark engine is not on the class path")
        .contains("rl/spark").contains("spark-submit");
    assertThat(r.err()).as("refused before the model is loaded").doesNotContain("loading");
    assertThat(out.resolve("checkpoints")).doesNotExist();
  }
}
