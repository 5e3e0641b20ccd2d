// The two backends of the policy agree: TensorFlow graph logits equal ONNX Runtime logits (1e-4) on tiny random
// checkpoints of both model types with GQA and left-padded batches of different prompt lengths, and after a
// TensorFlow optimizer step plus weight sync the rollout session follows the updated weights.
package dev.rlsr.export;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import dev.rlsr.export.runtime.OnnxPolicySession;
import dev.rlsr.export.runtime.OnnxPolicySessions;
import dev.rlsr.policy.testing.Logits;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.graph.SftLoss;
import dev.rlsr.policy.graph.TokenBatch;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.testing.NaiveLlama;
import dev.rlsr.policy.testing.TinyCheckpoints;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class TfOrtParityTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  // left padding, prompts of 6, 3 and 1 tokens
  static final int[][] IDS = {{5, 9, 12, 40, 3, 7}, {0, 0, 0, 21, 30, 2}, {0, 0, 0, 0, 0, 99}};
  static final int[][] MASK = {{1, 1, 1, 1, 1, 1}, {0, 0, 0, 1, 1, 1}, {0, 0, 0, 0, 0, 1}};
  static final int[][] POS = NaiveLlama.positionsFromMask(MASK);

  static Stream<ModelConfig> configs() {
    return Stream.of(TinyCheckpoints.llama(false), TinyCheckpoints.llama(true), TinyCheckpoints.qwen2(true),
        TinyCheckpoints.qwen2(false));
  }

  static float[][][] tfLogits(PolicyGraph g, ModelConfig c) {
    float[] flat = g.logits(IDS, MASK, POS);
    int b = IDS.length;
    int t = IDS[0].length;
    int v = c.vocabSize();
    float[][][] out = new float[b][t][v];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < t; j++) {
        System.arraycopy(flat, (i * t + j) * v, out[i][j], 0, v);
      }
    }
    return out;
  }

  static float[][][] ortLogits(ModelWeights w) throws Exception {
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(w.config(), Map.of());
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, w, 1, "cpu")) {
      return OrtTestIo.forward(ENV, s.session(), w.config(), IDS, MASK, POS);
    }
  }

  @ParameterizedTest
  @MethodSource("configs")
  void tensorflowAndOnnxRuntimeLogitsAgree(ModelConfig c) throws Exception {
    ModelWeights w = ModelWeights.random(c, 17);
    try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.inference(1), List.of())) {
      assertThat(Logits.maxAbsDiff(tfLogits(g, c), ortLogits(w), MASK)).isLessThanOrEqualTo(1e-4);
    }
  }

  @Test
  void afterATensorflowStepAndASyncTheRolloutSessionFollows() throws Exception {
    ModelConfig c = TinyCheckpoints.qwen2(false);
    ModelWeights w = ModelWeights.random(c, 3);
    try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.training(1), List.of(new SftLoss()))) {
      int[][] tg = {{9, 12, 40, 3, 7, 0}, {0, 0, 0, 30, 2, 0}, {0, 0, 0, 0, 0, 0}};
      float[][] lm = {{1, 1, 1, 1, 1, 0}, {0, 0, 0, 1, 1, 0}, {0, 0, 0, 0, 0, 0}};
      g.training().accumulate(new SftLoss(), new SftLoss.Inputs(new TokenBatch(IDS, tg, MASK, POS), lm, 1f / 7));
      g.training().applyGradients(1e-2, 0.0, 1.0);
      ModelWeights updated = g.getWeights(); // the sync: TF variables -> a new ORT session
      float[][][] ort = ortLogits(updated);
      float[][][] tf = tfLogits(g, c);
      assertThat(Logits.maxAbsDiff(tf, ort, MASK)).isLessThanOrEqualTo(1e-4);
      assertThat(Logits.maxAbsDiff(ort, ortLogits(w), MASK)).as("the step moved the logits").isGreaterThan(1e-3);
    }
  }
}
