// LoRA rollout engines: an engine with adapter X samples like a plain engine over the merged weights (tokens, and
// log-probs to 1e-4), with B = 0 exactly like the base engine; sync swaps the adapter in the same session, refuses
// adapters that do not fit by name, and release keeps the session.
package dev.rlsr.export.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rlsr.export.Device;
import dev.rlsr.export.LoraTestWeights;
import dev.rlsr.export.runtime.RolloutEngines.Backend;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RlsrException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LoraRolloutEngineTest {
  static final ModelConfig CONFIG = TinyCheckpoints.qwen2();
  static final LoraConfig LORA = new LoraConfig(4, 16, 0, LoraConfig.MODULES);
  static final List<int[]> PROMPTS = List.of(new int[] {5, 17, 3, 40, 9, 100}, new int[] {8}, new int[] {33, 12, 7});
  static final SamplingOptions SAMPLED = SamplingOptions.sampling(12, 42, List.of(), 0).withTemperature(0.9);
  static final SamplingOptions GREEDY = SamplingOptions.greedy(12, List.of(), 0);
  static final EngineOptions PLAIN = EngineOptions.of(1, Device.CPU);
  static final EngineOptions WITH_LORA = PLAIN.withLora(LORA);

  static ModelWeights base() {
    return RolloutEnginesTest.weights(5);
  }

  static LinkedHashMap<String, FloatTensor> adapter(long seed) {
    return LoraTestWeights.random(CONFIG, LORA, seed, 0.15);
  }

  static List<Rollout> sample(Backend b, ModelWeights w, SamplingOptions o) {
    try (RolloutEngine e = RolloutEngines.open(b, w, PLAIN)) {
      return e.sample(PROMPTS, o);
    }
  }

  static void assertSameRollouts(List<Rollout> got, List<Rollout> want, double logProbTolerance) {
    assertThat(RolloutEnginesTest.tokens(got)).isEqualTo(RolloutEnginesTest.tokens(want));
    for (int i = 0; i < want.size(); i++) {
      float[][] pairs = {got.get(i).samplingLogProbs(), want.get(i).samplingLogProbs(),
          got.get(i).policyLogProbs(), want.get(i).policyLogProbs()};
      for (int p = 0; p < 4; p += 2) {
        assertThat(pairs[p]).hasSameSizeAs(pairs[p + 1]);
        for (int t = 0; t < pairs[p].length; t++) {
          assertThat((double) Math.abs(pairs[p][t] - pairs[p + 1][t])).as("row %d token %d", i, t)
              .isLessThanOrEqualTo(logProbTolerance);
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = Backend.class, names = {"ONNX", "ONNX_RECOMPUTE"})
  void anAdapterSamplesLikeTheMergedWeightsAndZeroBLikeTheBase(Backend b) {
    ModelWeights w = base();
    LinkedHashMap<String, FloatTensor> x = adapter(3);
    LinkedHashMap<String, FloatTensor> zeroB = adapter(4);
    zeroB.replaceAll((name, t) -> name.endsWith(".lora_B.weight") ? FloatTensor.zeros(t.shape()) : t);
    List<Rollout> baseRollouts = sample(b, w, SAMPLED);
    List<Rollout> mergedRollouts = sample(b, LoraTestWeights.merged(w, LORA, x), SAMPLED);
    try (OrtRolloutEngine e = RolloutEngines.openOrt(b, CONFIG, w, WITH_LORA)) {
      // before any sync the engine is the base model
      assertSameRollouts(e.sample(PROMPTS, SAMPLED), baseRollouts, 0);
      OnnxPolicySession session = e.policySession();
      e.sync(TensorSource.of(x));
      List<Rollout> adapted = e.sample(PROMPTS, SAMPLED);
      assertSameRollouts(adapted, mergedRollouts, 1e-4);
      assertThat(RolloutEnginesTest.tokens(adapted)).as("the adapter changes the rollouts")
          .isNotEqualTo(RolloutEnginesTest.tokens(baseRollouts));
      e.sync(TensorSource.of(zeroB));
      assertSameRollouts(e.sample(PROMPTS, SAMPLED), baseRollouts, 0);
      assertThat(e.policySession()).as("an adapter sync keeps the session").isSameAs(session);
      // greedy too, and a call repeats exactly
      e.sync(TensorSource.of(x));
      assertSameRollouts(e.sample(PROMPTS, GREEDY), sample(b, LoraTestWeights.merged(w, LORA, x), GREEDY), 1e-4);
      assertSameRollouts(e.sample(PROMPTS, SAMPLED), adapted, 0);
    }
  }

  @Test
  void syncReadsOnlyTheAdapterAndRefusesOneThatDoesNotFit() {
    ModelWeights w = base();
    LinkedHashMap<String, FloatTensor> x = adapter(3);
    try (RolloutEngine e = RolloutEngines.open(Backend.ONNX, CONFIG, w, WITH_LORA)) {
      // a source with more than the adapter (the base weights too, as a trainer's variables) is fine
      LinkedHashMap<String, FloatTensor> everything = new LinkedHashMap<>(w.tensors());
      everything.putAll(x);
      e.sync(TensorSource.of(everything));
      List<String> adapted = RolloutEnginesTest.tokens(e.sample(PROMPTS, GREEDY));

      String missing = "model.layers.1.mlp.down_proj.lora_B.weight";
      LinkedHashMap<String, FloatTensor> lacking = new LinkedHashMap<>(x);
      lacking.remove(missing);
      assertThatThrownBy(() -> e.sync(TensorSource.of(lacking))).isInstanceOf(RlsrException.class)
          .hasMessageContaining(missing).hasMessageContaining("--lora-r");
      LinkedHashMap<String, FloatTensor> misshapen = new LinkedHashMap<>(x);
      String a = "model.layers.0.self_attn.q_proj.lora_A.weight";
      misshapen.put(a, FloatTensor.zeros(new long[] {8, CONFIG.hiddenSize()}));
      assertThatThrownBy(() -> e.sync(TensorSource.of(misshapen))).isInstanceOf(RlsrException.class)
          .hasMessageContaining(a).hasMessageContaining("[8, 32]").hasMessageContaining("[4, 32]");
      assertThatThrownBy(() -> e.sync(w)).as("base weights alone are no adapter").isInstanceOf(RlsrException.class)
          .hasMessageContaining("lora_A.weight");
      // refused syncs leave the adapter as it was
      assertThat(RolloutEnginesTest.tokens(e.sample(PROMPTS, GREEDY))).isEqualTo(adapted);
    }
  }

  @Test
  void creationWeightsWithAnAdapterStartWithIt() {
    ModelWeights w = base();
    LinkedHashMap<String, FloatTensor> x = adapter(3);
    LinkedHashMap<String, FloatTensor> everything = new LinkedHashMap<>(w.tensors());
    everything.putAll(x);
    List<String> merged = RolloutEnginesTest.tokens(sample(Backend.ONNX, LoraTestWeights.merged(w, LORA, x), GREEDY));
    try (RolloutEngine e = RolloutEngines.open(Backend.ONNX, CONFIG, TensorSource.of(everything), WITH_LORA)) {
      assertThat(RolloutEnginesTest.tokens(e.sample(PROMPTS, GREEDY))).isEqualTo(merged);
    }
    everything.remove("model.layers.0.mlp.up_proj.lora_A.weight");
    assertThatThrownBy(() -> RolloutEngines.open(Backend.ONNX, CONFIG, TensorSource.of(everything), WITH_LORA))
        .isInstanceOf(RlsrException.class).hasMessageContaining("model.layers.0.mlp.up_proj.lora_A.weight");
  }

  @Test
  void releaseDropsTheAdapterAndKeepsTheSession() {
    ModelWeights w = base();
    LinkedHashMap<String, FloatTensor> x = adapter(3);
    try (OrtRolloutEngine e = RolloutEngines.openOrt(Backend.ONNX, CONFIG, w, WITH_LORA)) {
      e.sync(TensorSource.of(x));
      List<String> adapted = RolloutEnginesTest.tokens(e.sample(PROMPTS, GREEDY));
      OnnxPolicySession session = e.policySession();
      e.release();
      assertThatThrownBy(() -> e.sample(PROMPTS, GREEDY)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("sync");
      assertThat(e.policySession()).isSameAs(session);
      e.sync(TensorSource.of(x));
      assertThat(RolloutEnginesTest.tokens(e.sample(PROMPTS, GREEDY))).isEqualTo(adapted);
      assertThat(e.policySession()).isSameAs(session);
    }
  }

  @Test
  void theTfBackendRefusesAnAdapter() {
    assertThatThrownBy(() -> RolloutEngines.open(Backend.TF, base(), WITH_LORA)).isInstanceOf(RlsrException.class)
        .hasMessageContaining("ONNX Runtime only");
    assertThat(WITH_LORA.withLogits(dev.rlsr.export.OnnxPolicyExporter.Logits.ALL).withMetadata(Map.of("k", "v")).lora())
        .isEqualTo(LORA);
  }
}
