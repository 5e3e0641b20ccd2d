// The TensorFlow generator against the ONNX Runtime sampler on the same tiny random checkpoints: greedy decoding
// gives the same tokens on both backends, and the ORT no-cache generator repeats the KV-cache sampler exactly.
package dev.rlsr.export.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OrtEnvironment;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.rollout.TfGenerator;
import dev.rlsr.policy.testing.TinyCheckpoints;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TfGeneratorParityTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static final List<int[]> PROMPTS = List.of(new int[] {5, 17, 3, 40, 9, 100}, new int[] {8}, new int[] {33, 12, 7});

  /** Random weights scaled up so that distributions are peaked and argmaxes clear of float noise. */
  static ModelWeights weights(ModelConfig c) {
    ModelWeights w = ModelWeights.random(c, 5);
    w.tensors().forEach((n, t) -> {
      if (!n.endsWith("norm.weight")) {
        for (int i = 0; i < t.data().length; i++) {
          t.data()[i] *= 8;
        }
      }
    });
    return w;
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "qwen2"})
  void greedyGivesTheSame32TokensOnBothBackends(String type) {
    ModelConfig c = type.equals("llama") ? TinyCheckpoints.llama() : TinyCheckpoints.qwen2();
    ModelWeights w = weights(c);
    SamplingOptions greedy = SamplingOptions.greedy(32, List.of(), 0);
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of(), OnnxPolicyExporter.Logits.LAST);
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, w, 1, "cpu");
        PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.inference(1), List.of())) {
      List<Rollout> ort = new OrtSampler(ENV, s.session(), c).sample(PROMPTS, greedy);
      List<Rollout> tf = new TfGenerator(g).sample(PROMPTS, greedy);
      List<Rollout> recompute = new OnnxForward(ENV, s.session(), c).recomputeGenerator().sample(PROMPTS, greedy);
      for (int b = 0; b < PROMPTS.size(); b++) {
        assertThat(ort.get(b).tokens()).hasSize(32);
        assertThat(tf.get(b).tokens()).as("%s row %d", type, b).containsExactly(ort.get(b).tokens());
        assertThat(recompute.get(b).tokens()).containsExactly(ort.get(b).tokens());
        for (int t = 0; t < 32; t++) {
          assertThat(tf.get(b).policyLogProbs()[t]).isCloseTo(ort.get(b).policyLogProbs()[t], within(1e-3f));
        }
      }
      // Seeded top-k sampling with a stop token: the same draws in the same order on both backends.
      SamplingOptions sampled = SamplingOptions.sampling(20, 77, List.of(c.eosTokenIds().get(0)), 0).withTopK(8);
      List<Rollout> a = new OrtSampler(ENV, s.session(), c).sample(PROMPTS, sampled);
      List<Rollout> bb = new TfGenerator(g).sample(PROMPTS, sampled);
      for (int b = 0; b < PROMPTS.size(); b++) {
        assertThat(bb.get(b).tokens()).containsExactly(a.get(b).tokens());
        assertThat(bb.get(b).finishedByEos()).isEqualTo(a.get(b).finishedByEos());
      }
    }
  }
}
