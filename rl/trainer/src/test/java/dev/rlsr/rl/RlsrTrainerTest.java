// The RLSR loop end to end on a tiny model and a task it can learn: the mean reward rises, metrics, completions,
// plots and the final checkpoint are written, NaN losses are skipped and counted, bad input fails clearly.
package dev.rlsr.rl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.LrSchedule;
import dev.rlsr.train.MetricsLog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RlsrTrainerTest {
  static SentenceEmbedder embedder;
  @TempDir Path tmp;

  @BeforeAll
  static void load() {
    embedder = SentenceEmbedder.load(SentenceEmbedder.DEFAULT, 2);
  }

  @AfterAll
  static void close() {
    embedder.close();
  }

  static GrpoConfig config(Path model, Path out, int iterations, double lr) {
    return GrpoConfig.builder().model(model).data(Path.of("task.jsonl")).out(out).iterations(iterations)
        .promptsPerIteration(4).numGenerations(8).maxPromptLength(32).maxCompletionLength(6).learningRate(lr)
        .beta(0.02).lossType(LossType.DAPO).scaleRewards(ScaleRewards.GROUP).embedder(SentenceEmbedder.DEFAULT)
        .seed(7).saveEvery(0).saveTotalLimit(2).microBatchSize(32).schedule(LrSchedule.Kind.CONSTANT)
        .logCompletions(4).threads(2).build();
  }

  static List<Example> task() {
    return List.of(Example.of("color?", "red"), Example.of("colour?", "red"), Example.of("which color?", "red"),
        Example.of("a color", "red"));
  }

  @Test
  void rewardRisesOnALearnableTask() {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 5);
    Path out = tmp.resolve("out");
    StringWriter log = new StringWriter();
    EmbeddingReward reward = new EmbeddingReward(embedder);
    var s = new RlsrTrainer(config(model, out, 40, 1e-2), new PrintWriter(log, true)).run(task(), reward::score);
    List<JsonNode> rows = MetricsLog.read(out.resolve("metrics.jsonl"));
    assertThat(rows).hasSize(40);
    double first = avg(rows, 0, 5);
    double last = avg(rows, 35, 40);
    System.out.printf("reward first 5 iterations %.4f, last 5 iterations %.4f%n", first, last);
    assertThat(last).as(log.toString()).isGreaterThan(first + 0.05);
    for (String key : List.of("iteration", "reward_mean", "reward_std", "frac_reward_zero_std", "kl", "clip_fraction",
        "loss", "entropy", "completion_length_mean", "completion_length_min", "completion_length_max",
        "truncated_fraction", "learning_rate", "tokens_per_second", "seconds_rollout", "seconds_reward",
        "seconds_logprobs", "seconds_update", "seconds_sync", "logprob_gap_mean")) {
      assertThat(rows.get(0).has(key)).as(key).isTrue();
    }
    assertThat(rows.get(0).get("logprob_gap_mean").asDouble()).isLessThan(1e-3);
    assertThat(MetricsLog.read(out.resolve("completions.jsonl"))).isNotEmpty();
    assertThat(out.resolve("plots/reward.png")).exists();
    assertThat(out.resolve("plots/kl.png")).exists();
    assertThat(out.resolve("plots/completion_length.png")).exists();
    assertThat(out.resolve("model.safetensors")).exists();
    assertThat(s.skippedSteps()).isZero();
  }

  static double avg(List<JsonNode> rows, int from, int to) {
    double s = 0;
    for (int i = from; i < to; i++) {
      s += rows.get(i).get("reward_mean").asDouble();
    }
    return s / (to - from);
  }

  @Test
  void nanLossIsSkippedAndCountedNotApplied() {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.F32, 5);
    Path out = tmp.resolve("out");
    int[] calls = {0};
    RewardFunction nanOnSecond = (c, r) -> {
      float[] x = new float[c.size()];
      for (int i = 0; i < x.length; i++) {
        x[i] = calls[0] == 1 ? Float.NaN : (float) (i % 3) / 3f;
      }
      calls[0]++;
      return x;
    };
    StringWriter log = new StringWriter();
    var s = new RlsrTrainer(config(model, out, 3, 1e-3), new PrintWriter(log, true)).run(task(), nanOnSecond);
    assertThat(s.skippedSteps()).isEqualTo(1);
    assertThat(log.toString()).contains("iteration 2: non-finite loss").contains("not applied");
    List<JsonNode> rows = MetricsLog.read(out.resolve("metrics.jsonl"));
    assertThat(rows.get(2).get("skipped_steps").asInt()).isEqualTo(1);
  }

  @Test
  void emptyOrUnusableDataIsRefusedClearly() {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.F32, 5);
    var trainer = new RlsrTrainer(config(model, tmp.resolve("o"), 1, 1e-3), new PrintWriter(new StringWriter()));
    assertThatThrownBy(() -> trainer.run(List.of(), (c, r) -> new float[c.size()]))
        .isInstanceOf(RlsrException.class).hasMessageContaining("empty");
    assertThatThrownBy(() -> trainer.run(List.of(Example.of("q", " "), Example.of("p", "")), (c, r) -> new float[c.size()]))
        .isInstanceOf(RlsrException.class).hasMessageContaining("no usable rows");
  }

  @Test
  void impossibleSettingsAreRefusedUpFront() {
    GrpoConfig c = config(Path.of("m"), Path.of("o"), 1, 1e-3);
    assertThatThrownBy(() -> c.toBuilder().numGenerations(1).beta(0).embedder("x").microBatchSize(8).threads(1).build()
        .validate()).hasMessageContaining("--num-generations must be at least 2");
    assertThatThrownBy(() -> c.toBuilder().numGenerations(4).generationBatchSize(6).beta(0).embedder("x")
        .microBatchSize(8).threads(1).build().validate()).hasMessageContaining("multiple of 4");
  }
}
