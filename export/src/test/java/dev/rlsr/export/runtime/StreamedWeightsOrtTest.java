// ONNX Runtime from streamed sources: sessions and engines opened from a lazy bf16 file or from a TensorFlow graph's
// variables give the logits and tokens of the in-memory path; a sync streams the policy's variables; a sync that
// fails leaves an engine that says so (and recovers with the next good sync), one with unfit weights changes nothing.
package dev.rlsr.export.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import dev.rlsr.export.Device;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.OrtTestIo;
import dev.rlsr.export.runtime.RolloutEngines.Backend;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.checkpoint.SafetensorsSource;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.testing.Logits;
import dev.rlsr.policy.testing.NaiveLlama;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RlsrException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class StreamedWeightsOrtTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static final ModelConfig CONFIG = TinyCheckpoints.qwen2();
  static final int[][] IDS = {{0, 4, 9, 13, 200}, {6, 1, 22, 50, 7}};
  static final int[][] MASK = {{0, 1, 1, 1, 1}, {1, 1, 1, 1, 1}};
  static final int[][] POS = NaiveLlama.positionsFromMask(MASK);
  static final List<int[]> PROMPTS = List.of(new int[] {5, 17, 3, 40, 9, 100}, new int[] {8}, new int[] {33, 12, 7});
  static final SamplingOptions GREEDY = SamplingOptions.greedy(12, List.of(), 0);
  static final EngineOptions ONE_THREAD = EngineOptions.of(1, Device.CPU);

  @TempDir Path dir;

  @Test
  void aSessionFromALazyFileOrFromGraphVariablesEqualsTheInMemoryOne() throws Exception {
    Path model = TinyCheckpoints.write(dir.resolve("m"), CONFIG, Safetensors.DType.BF16, 12);
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(CONFIG, Map.of());
    try (HfModel m = HfModel.load(model)) {
      ModelWeights inMemory = ModelWeights.read(CONFIG, m.tensors());
      float[][][] want;
      try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, inMemory, 1, Device.CPU)) {
        want = OrtTestIo.forward(ENV, s.session(), CONFIG, IDS, MASK, POS);
      }
      assertThat(Logits.maxAbsDiff(want, NaiveLlama.logits(inMemory, IDS, MASK, POS), MASK)).isLessThan(1e-4);
      try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, CONFIG, m.tensors(), 1, Device.CPU)) {
        assertThat(OrtTestIo.forward(ENV, s.session(), CONFIG, IDS, MASK, POS)).isDeepEqualTo(want);
      }
      try (PolicyGraph g = PolicyGraph.create(CONFIG, m.tensors(), PolicyGraph.Options.inference(1), List.of());
          OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, CONFIG, g.variables(), 1, Device.CPU)) {
        assertThat(OrtTestIo.forward(ENV, s.session(), CONFIG, IDS, MASK, POS)).isDeepEqualTo(want);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void enginesFromAFileSourceSampleLikeEnginesFromWeightsAndSyncFromAGraph(Backend b) {
    ModelWeights before = RolloutEnginesTest.weights(5);
    ModelWeights after = RolloutEnginesTest.weights(6);
    try (SafetensorsSource file = SafetensorsSource.open(write(before));
        RolloutEngine fromFile = RolloutEngines.open(b, CONFIG, file, ONE_THREAD);
        RolloutEngine fromWeights = RolloutEngines.open(b, before, ONE_THREAD);
        PolicyGraph graph = PolicyGraph.create(after, PolicyGraph.Options.inference(1), List.of())) {
      List<String> old = RolloutEnginesTest.tokens(fromWeights.sample(PROMPTS, GREEDY));
      assertThat(RolloutEnginesTest.tokens(fromFile.sample(PROMPTS, GREEDY))).isEqualTo(old);
      fromFile.sync(graph.variables());
      List<String> synced = RolloutEnginesTest.tokens(fromFile.sample(PROMPTS, GREEDY));
      assertThat(synced).isEqualTo(RolloutEnginesTest.greedy(b, after)).isNotEqualTo(old);
    }
  }

  @Test
  void aFailedSyncLeavesAnEngineThatSaysSoUntilTheNextGoodSync() {
    ModelWeights w = RolloutEnginesTest.weights(5);
    try (OrtRolloutEngine e = RolloutEngines.openOrt(Backend.ONNX, w, ONE_THREAD)) {
      List<String> tokens = RolloutEnginesTest.tokens(e.sample(PROMPTS, GREEDY));
      // weights of the wrong shape are refused before the old session goes: the engine keeps sampling
      LinkedHashMap<String, FloatTensor> reshaped = new LinkedHashMap<>(w.tensors());
      reshaped.put("model.norm.weight", FloatTensor.zeros(7));
      assertThatThrownBy(() -> e.sync(TensorSource.of(reshaped))).isInstanceOf(RlsrException.class)
          .hasMessageContaining("model.norm.weight");
      assertThat(RolloutEnginesTest.tokens(e.sample(PROMPTS, GREEDY))).isEqualTo(tokens);
      // a source that fails half way: the old session is already closed (one copy of the weights at a time)
      TensorSource failing = new TensorSource() {
        @Override
        public LinkedHashMap<String, long[]> shapes() {
          return w.shapes();
        }

        @Override
        public FloatTensor read(String name) {
          throw new IllegalStateException("disk gone");
        }

        @Override
        public void readInto(String name, FloatBuffer dst) {
          if (name.startsWith("model.layers.1")) {
            throw new IllegalStateException("disk gone");
          }
          w.readInto(name, dst);
        }
      };
      assertThatThrownBy(() -> e.sync(failing)).hasMessageContaining("disk gone");
      assertThatThrownBy(() -> e.sample(PROMPTS, GREEDY)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("last sync failed");
      assertThatThrownBy(e::forward).isInstanceOf(IllegalStateException.class);
      e.sync(w);
      assertThat(RolloutEnginesTest.tokens(e.sample(PROMPTS, GREEDY))).isEqualTo(tokens);
    }
  }

  private Path write(ModelWeights w) {
    Path f = dir.resolve("w-" + System.nanoTime() + ".safetensors");
    try {
      Safetensors.write(f, w.tensors(), Safetensors.DType.F32, Map.of());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return f;
  }
}
