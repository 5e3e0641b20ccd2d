// RLSR with quantized rollouts (--rollout-dtype q8, q4): the sampler is the quantized graph, the update stays float32,
// the logged trainer/sampler gap is the quantization's, and the reward still rises on a learnable task in the same
// run length as float32 rollouts. The importance-sampling modes weight tokens as TRL's do.
package dev.rlsr.rl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.export.ExportDtype;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.MetricsLog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizedRolloutsTest {
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

  private List<JsonNode> run(GrpoConfig cfg) {
    EmbeddingReward reward = new EmbeddingReward(embedder);
    new RlsrTrainer(cfg.validate(), new PrintWriter(new StringWriter(), true)).run(RlsrTrainerTest.task(),
        reward::score);
    return MetricsLog.read(cfg.out().resolve("metrics.jsonl"));
  }

  @Test
  void quantizedRolloutsLearnTheTaskWithTheirGapLoggedAndCorrected() {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 5);
    Map<ExportDtype, List<JsonNode>> runs = new LinkedHashMap<>();
    for (ExportDtype d : List.of(ExportDtype.FP32, ExportDtype.Q8, ExportDtype.Q4)) {
      GrpoConfig cfg = RlsrTrainerTest.config(model, tmp.resolve("out-" + d), 40, 1e-2).toBuilder().rolloutDtype(d)
          .build();
      runs.put(d, run(cfg));
    }
    for (var e : runs.entrySet()) {
      List<JsonNode> rows = e.getValue();
      double first = RlsrTrainerTest.avg(rows, 0, 5);
      double last = RlsrTrainerTest.avg(rows, 35, 40);
      double gap = rows.stream().mapToDouble(r -> r.get("logprob_gap_mean").asDouble()).average().orElseThrow();
      double w = rows.stream().mapToDouble(r -> r.get("is_weight_mean").asDouble()).average().orElseThrow();
      double rollout = rows.stream().mapToDouble(r -> r.get("seconds_rollout").asDouble()).sum();
      double iteration = rows.stream().mapToDouble(r -> r.get("seconds_iteration").asDouble()).sum();
      System.out.printf("--rollout-dtype %s: reward first 5 %.4f, last 5 %.4f; logprob_gap_mean %.2e; is_weight_mean "
          + "%.4f; rollouts %.1f s of %.1f s%n", e.getKey(), first, last, gap, w, rollout, iteration);
      assertThat(last).as(e.getKey() + " learns").isGreaterThan(first + 0.05);
      if (e.getKey() == ExportDtype.FP32) {
        assertThat(gap).isLessThan(1e-4);
      } else {
        // the sampler is the quantized graph: a gap far above float32's, weighted by the correction
        assertThat(gap).isGreaterThan(100 * runs.get(ExportDtype.FP32).stream()
            .mapToDouble(r -> r.get("logprob_gap_mean").asDouble()).average().orElseThrow());
        assertThat(w).isNotEqualTo(1.0);
      }
    }
    // a run that quantizes records it in its run config; the default records nothing (old checkpoints resume)
    assertThat(RlsrTrainerTest.config(model, tmp, 1, 1e-2).toBuilder().rolloutDtype(ExportDtype.Q4).build().toJson()
        .get("rollout_dtype").asText()).isEqualTo("q4");
    assertThat(RlsrTrainerTest.config(model, tmp, 1, 1e-2).toJson().has("rollout_dtype")).isFalse();
  }

  @Test
  void sequenceMaskDropsWholeCompletionsOverTheCap() {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 6);
    GrpoConfig base = RlsrTrainerTest.config(model, tmp.resolve("a"), 3, 1e-2).toBuilder()
        .rolloutDtype(ExportDtype.Q4).isCap(1.0).build();
    List<JsonNode> truncate = run(base.toBuilder().isMode(GrpoConfig.IsMode.TOKEN_TRUNCATE).build());
    List<JsonNode> mask = run(base.toBuilder().out(tmp.resolve("b")).isMode(GrpoConfig.IsMode.SEQUENCE_MASK).build());
    for (int i = 0; i < 3; i++) {
      // the same rollouts (same seed, same sampler weights at iteration 0); with cap 1 truncation keeps every token
      // at most 1, masking zeroes each completion whose sequence ratio exceeds 1
      double t = truncate.get(i).get("is_weight_mean").asDouble();
      double m = mask.get(i).get("is_weight_mean").asDouble();
      assertThat(t).isLessThanOrEqualTo(1.0).isGreaterThan(0.5);
      if (i == 0) {
        assertThat(m).isLessThan(t);
      }
    }
    assertThatThrownBy(() -> base.toBuilder().lora(LoraConfig.of(4)).build().validate())
        .isInstanceOf(RlsrException.class).hasMessageContaining("--rollout-dtype q4 with --lora-r");
  }
}
