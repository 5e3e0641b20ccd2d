// The rollout seam: every backend opened through RolloutEngines gives the same greedy tokens, sync makes an engine
// sample like a fresh one on the new weights, and engines that cannot take weights say so and stay usable.
package dev.rlsr.export.runtime;

import dev.rlsr.export.Device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.runtime.RolloutEngines.Backend;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.rollout.RecomputeGenerator;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RolloutEnginesTest {
  static final ModelConfig CONFIG = TinyCheckpoints.qwen2();
  static final List<int[]> PROMPTS = List.of(new int[] {5, 17, 3, 40, 9, 100}, new int[] {8}, new int[] {33, 12, 7});
  static final SamplingOptions GREEDY = SamplingOptions.greedy(12, List.of(), 0);
  static final EngineOptions ONE_THREAD = EngineOptions.of(1, Device.CPU);

  @TempDir Path dir;

  /** Random weights scaled up so that argmaxes are clear of float noise (as in TfGeneratorParityTest). */
  static ModelWeights weights(long seed) {
    ModelWeights w = ModelWeights.random(CONFIG, seed);
    w.tensors().forEach((n, t) -> {
      if (!n.endsWith("norm.weight")) {
        for (int i = 0; i < t.data().length; i++) {
          t.data()[i] *= 8;
        }
      }
    });
    return w;
  }

  static List<String> tokens(List<Rollout> rs) {
    return rs.stream().map(r -> java.util.Arrays.toString(r.tokens())).toList();
  }

  static List<String> greedy(Backend b, ModelWeights w) {
    try (RolloutEngine e = RolloutEngines.open(b, w, ONE_THREAD)) {
      return tokens(e.sample(PROMPTS, GREEDY));
    }
  }

  @Test
  void everyBackendGivesTheSameGreedyTokens() {
    ModelWeights w = weights(5);
    List<String> onnx = greedy(Backend.ONNX, w);
    assertThat(greedy(Backend.ONNX_RECOMPUTE, w)).isEqualTo(onnx);
    assertThat(greedy(Backend.TF, w)).isEqualTo(onnx);
    try (RolloutEngine all = RolloutEngines.open(Backend.ONNX, w, ONE_THREAD.withLogits(OnnxPolicyExporter.Logits.ALL))) {
      assertThat(tokens(all.sample(PROMPTS, GREEDY))).isEqualTo(onnx);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void syncSamplesLikeAFreshEngineOnTheNewWeights(Backend b) {
    ModelWeights before = weights(5);
    ModelWeights after = weights(6);
    List<String> fresh = greedy(b, after);
    try (RolloutEngine e = RolloutEngines.open(b, before, ONE_THREAD)) {
      List<String> old = tokens(e.sample(PROMPTS, GREEDY));
      e.sync(after);
      List<String> synced = tokens(e.sample(PROMPTS, GREEDY));
      assertThat(synced).isEqualTo(fresh);
      assertThat(synced).as("the new weights change the rollouts").isNotEqualTo(old);
      e.sync(before);
      assertThat(tokens(e.sample(PROMPTS, GREEDY))).isEqualTo(old);
    }
  }

  @Test
  void anEngineOverAnExportedModelSamplesButCannotSync() {
    ModelWeights w = weights(5);
    Path file = dir.resolve("model.onnx");
    OnnxPolicyExporter.writeModel(w, file, Map.of());
    try (OrtRolloutEngine e = OrtRolloutEngine.open(file, CONFIG, 1, Device.CPU)) {
      assertThat(tokens(e.sample(PROMPTS, GREEDY))).isEqualTo(greedy(Backend.ONNX, w));
      assertThatThrownBy(() -> e.sync(w)).isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("model.onnx").hasMessageContaining("RolloutEngines.open");
      assertThat(tokens(e.sample(PROMPTS, GREEDY))).isEqualTo(greedy(Backend.ONNX, w));
    }
  }

  @Test
  void aGeneratorOverABareForwardFunctionCannotSync() {
    ModelWeights w = weights(5);
    try (OrtRolloutEngine e = RolloutEngines.openOrt(Backend.ONNX, w, ONE_THREAD);
        RolloutEngine bare = new RecomputeGenerator(CONFIG, e.forward()::lastLogits)) {
      assertThat(tokens(bare.sample(PROMPTS, GREEDY))).isEqualTo(tokens(e.sample(PROMPTS, GREEDY)));
      assertThatThrownBy(() -> bare.sync(w)).isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("RolloutEngines.open");
    }
  }

  @Test
  void optionsThatDoNotFitTheBackendAreRefused() {
    ModelWeights w = weights(5);
    assertThatThrownBy(() -> RolloutEngines.open(Backend.TF, w, EngineOptions.of(1, Device.CUDA)))
        .isInstanceOf(RlsrException.class).hasMessageContaining("--device cuda");
    assertThatThrownBy(() -> RolloutEngines.openOrt(Backend.TF, w, ONE_THREAD))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RolloutEngines.open(Backend.ONNX, w, EngineOptions.of(0, Device.CPU)))
        .isInstanceOf(RlsrException.class).hasMessageContaining("--threads");
  }
}
