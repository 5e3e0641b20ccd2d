// An OutOfMemoryError in the middle of an RLSR run (injected through the reward, in the third iteration) leaves the
// run as a checkpoint saw it: the Error reaches the caller unchanged (the CLI turns it into its one message),
// checkpoint 2 is whole and LATEST, metrics.jsonl holds the two finished iterations, and --resume finishes the run.
package dev.rlsr.rl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.train.MetricsLog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RlsrTrainerOutOfMemoryTest {
  @TempDir Path tmp;

  @Test
  void outOfMemoryMidRunLeavesTheLastCheckpointWholeAndResumable() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 5);
    Path out = tmp.resolve("out");
    GrpoConfig cfg = RlsrTrainerTest.config(model, out, 4, 1e-2).toBuilder().saveEvery(1).saveTotalLimit(0).build();
    try (SentenceEmbedder enc = SentenceEmbedder.load(SentenceEmbedder.DEFAULT, 1)) {
      EmbeddingReward reward = new EmbeddingReward(enc);
      AtomicInteger calls = new AtomicInteger();
      RewardFunction failing = (texts, refs) -> {
        if (calls.incrementAndGet() == 3) {
          throw new OutOfMemoryError("Java heap space");
        }
        return reward.score(texts, refs);
      };
      StringWriter log = new StringWriter();
      assertThatThrownBy(() -> new RlsrTrainer(cfg, new PrintWriter(log, true)).run(RlsrTrainerTest.task(), failing))
          .isInstanceOf(OutOfMemoryError.class).hasMessage("Java heap space");

      Path latest = new Checkpoints(out).latest().orElseThrow();
      assertThat(latest.getFileName().toString()).isEqualTo("step-00000002");
      try (HfModel m = HfModel.load(latest)) {
        assertThat(m.config().numLayers()).isEqualTo(2);
      }
      assertThat(Checkpoints.load(latest, TinyCheckpoints.qwen2()).trainerState().path("iteration").asInt())
          .isEqualTo(2);
      assertThat(MetricsLog.read(out.resolve("metrics.jsonl"))).hasSize(2);
      assertThat(out.resolve("model.safetensors")).as("no final model from a failed run").doesNotExist();

      StringWriter log2 = new StringWriter();
      var s = new RlsrTrainer(cfg.toBuilder().resume(true).build(), new PrintWriter(log2, true))
          .run(RlsrTrainerTest.task(), reward::score);
      assertThat(s.iterations()).isEqualTo(4);
      assertThat(s.iterationsRun()).as(log2.toString()).isEqualTo(2);
      assertThat(MetricsLog.read(out.resolve("metrics.jsonl"))).hasSize(4);
      assertThat(Files.exists(out.resolve("model.safetensors"))).isTrue();
    }
  }
}
