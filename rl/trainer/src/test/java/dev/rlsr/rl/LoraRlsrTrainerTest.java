// RLSR with a LoRA adapter end to end on a tiny model: only the adapter is trained (the KL reference is the same graph
// with the adapter off, the sampler gets the merged weights), the output is a PEFT adapter directory on the untouched
// base, and a resumed run ends at the adapter an uninterrupted one ends at.
package dev.rlsr.rl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.PeftAdapter;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.MetricsLog;
import dev.rlsr.train.SftOptions;
import dev.rlsr.train.SftTrainer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraRlsrTrainerTest {
  static SentenceEmbedder embedder;
  static final LoraConfig LORA = new LoraConfig(8, 16, 0, LoraConfig.MODULES);
  @TempDir Path tmp;

  @BeforeAll
  static void load() {
    embedder = SentenceEmbedder.load(SentenceEmbedder.DEFAULT, 2);
  }

  @AfterAll
  static void close() {
    embedder.close();
  }

  private RlsrTrainer.Summary run(GrpoConfig cfg, boolean override) {
    EmbeddingReward reward = new EmbeddingReward(embedder);
    return new RlsrTrainer(cfg, new PrintWriter(new StringWriter(), true)).resumeOverride(override)
        .run(RlsrTrainerTest.task(), reward::score);
  }

  @Test
  void onlyTheAdapterIsTrainedAndTheBaseIsTheReference() {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 5);
    LinkedHashMap<String, FloatTensor> before = Safetensors.readModelDir(model);
    Path out = tmp.resolve("out");
    GrpoConfig cfg = RlsrTrainerTest.config(model, out, 6, 1e-2).toBuilder().lora(LORA).build();
    var s = run(cfg, false);
    List<JsonNode> rows = MetricsLog.read(out.resolve("metrics.jsonl"));
    assertThat(rows).hasSize(6);
    // B = 0 at the start: the policy is the reference (the graph with the adapter off), then they part; the sampler
    // (synced with the merged weights) and the trainer agree throughout
    assertThat(rows.get(0).get("kl").asDouble()).isEqualTo(0.0);
    assertThat(rows.get(5).get("kl").asDouble()).isGreaterThan(1e-3);
    assertThat(rows.get(0).get("logprob_gap_mean").asDouble()).isLessThan(1e-3);
    assertThat(rows.get(5).get("logprob_gap_mean").asDouble()).isLessThan(1e-3);
    assertThat(s.skippedSteps()).isZero();
    // the output is an adapter on the untouched base
    assertThat(out.resolve(PeftAdapter.CONFIG)).exists();
    assertThat(out.resolve(PeftAdapter.WEIGHTS)).exists();
    assertThat(out.resolve(Safetensors.SINGLE_FILE)).doesNotExist();
    LinkedHashMap<String, FloatTensor> after = Safetensors.readModelDir(model);
    before.forEach((k, v) -> assertThat(after.get(k).data()).as(k).isEqualTo(v.data()));
    try (HfModel m = HfModel.load(out)) {
      assertThat(m.adapter().lora()).isEqualTo(cfg.lora());
      assertThat(m.adapter().baseModel()).isEqualTo(model.toAbsolutePath().normalize());
    }
  }

  @Test
  void aResumedRunEndsAtTheUninterruptedRunsAdapter() {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 6);
    GrpoConfig straight = RlsrTrainerTest.config(model, tmp.resolve("straight"), 4, 3e-2).toBuilder().lora(LORA)
        .saveEvery(2).build();
    run(straight, false);
    // the first two iterations as a run of their own, then resumed to four (--resume-override: --iterations differs;
    // the constant schedule makes the two runs' learning rates the same)
    GrpoConfig firstHalf = straight.toBuilder().out(tmp.resolve("resumed")).iterations(2).build();
    run(firstHalf, false);
    run(firstHalf.toBuilder().iterations(4).resume(true).build(), true);
    LinkedHashMap<String, FloatTensor> a = Safetensors.read(tmp.resolve("straight").resolve(PeftAdapter.WEIGHTS));
    LinkedHashMap<String, FloatTensor> b = Safetensors.read(tmp.resolve("resumed").resolve(PeftAdapter.WEIGHTS));
    assertThat(b.keySet()).isEqualTo(a.keySet());
    float moved = 0;
    for (String k : a.keySet()) {
      float[] x = a.get(k).data();
      float[] y = b.get(k).data();
      for (int i = 0; i < x.length; i++) {
        assertThat(Math.abs(x[i] - y[i])).as(k).isLessThanOrEqualTo(1e-5f);
        if (k.contains("lora_B")) {
          moved = Math.max(moved, Math.abs(x[i]));
        }
      }
    }
    assertThat(moved).as("B moved from 0").isGreaterThan(1e-4f);
    // a LoRA checkpoint cannot be resumed as a full run
    assertThatThrownBy(() -> run(firstHalf.toBuilder().iterations(4).resume(true).lora(null).build(), true))
        .isInstanceOf(RlsrException.class).hasMessageContaining("LoRA adapter");
  }

  @Test
  void rlsrOnAnSftAdapterContinuesItOnItsBase() {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 7);
    Path sftOut = tmp.resolve("sft");
    var sft = new SftTrainer(SftOptions.builder().model(model).data(Path.of("task.jsonl")).out(sftOut).maxSteps(4)
        .batchSize(4).learningRate(1e-2).maxSeqLen(64).threads(2).lora(LORA).build(),
        new PrintWriter(new StringWriter(), true)).run(RlsrTrainerTest.task());
    assertThat(sft.steps()).isEqualTo(4);
    LinkedHashMap<String, FloatTensor> sftAdapter = Safetensors.read(sftOut.resolve(PeftAdapter.WEIGHTS));
    Path out = tmp.resolve("rl");
    GrpoConfig cfg = RlsrTrainerTest.config(sftOut, out, 2, 1e-2).toBuilder().lora(LORA).build();
    run(cfg, false);
    // the reference is the base, not the SFT adapter: the policy differs from it from the first iteration
    assertThat(MetricsLog.read(out.resolve("metrics.jsonl")).get(0).get("kl").asDouble()).isGreaterThan(0.0);
    try (HfModel m = HfModel.load(out)) {
      assertThat(m.adapter().baseModel()).isEqualTo(model.toAbsolutePath().normalize());
    }
    LinkedHashMap<String, FloatTensor> rlAdapter = Safetensors.read(out.resolve(PeftAdapter.WEIGHTS));
    String b = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
    float fromSft = 0;
    float sftSize = 0;
    for (int i = 0; i < sftAdapter.get(b).data().length; i++) {
      fromSft = Math.max(fromSft, Math.abs(rlAdapter.get(b).data()[i] - sftAdapter.get(b).data()[i]));
      sftSize = Math.max(sftSize, Math.abs(sftAdapter.get(b).data()[i]));
    }
    assertThat(sftSize).as("SFT moved B").isGreaterThan(1e-3f);
    assertThat(fromSft).as("RLSR moved on from the SFT adapter").isGreaterThan(0f).isLessThan(sftSize * 2);
    // another rank on the SFT adapter is refused, naming the flags to use
    assertThatThrownBy(() -> run(cfg.toBuilder().out(tmp.resolve("rl2")).lora(LoraConfig.of(4)).build(), false))
        .isInstanceOf(RlsrException.class).hasMessageContaining("--lora-r 8").hasMessageContaining("--lora-alpha 16");
  }
}
