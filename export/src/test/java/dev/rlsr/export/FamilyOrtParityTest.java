// ONNX Runtime vs the naive reference and vs the TensorFlow graph for every family variant (qwen3 q/k norm, llama3
// and linear rope scaling, mistral, qwen2 with an unused sliding window) on batches of 320 tokens, and KV-cache
// decoding past position 300 against full recomputation.
package dev.rlsr.export;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import dev.rlsr.export.runtime.OnnxPolicySession;
import dev.rlsr.export.runtime.OnnxPolicySessions;
import dev.rlsr.policy.testing.Logits;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.testing.FamilyConfigs;
import dev.rlsr.policy.testing.NaiveLlama;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class FamilyOrtParityTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  static List<String> labels() {
    return FamilyConfigs.labels();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("labels")
  void longSequenceLogitsMatchNaiveAndTensorflow(String label) throws Exception {
    ModelConfig c = FamilyConfigs.all().get(label);
    ModelWeights w = FamilyConfigs.weights(c, 23);
    int[][][] batch = FamilyConfigs.longBatch(c.vocabSize());
    float[][][] ref = NaiveLlama.logits(w, batch[0], batch[1], batch[2]);
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of());
    float[][][] ort;
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, w, 1, "cpu")) {
      ort = OrtTestIo.forward(ENV, s.session(), c, batch[0], batch[1], batch[2]);
    }
    float[][][] tf = Logits.tf(w, batch[0], batch[1], batch[2]);
    double ortVsRef = Logits.maxAbsDiff(ort, ref, batch[1]);
    double tfVsOrt = Logits.maxAbsDiff(tf, ort, batch[1]);
    System.out.printf("%s, %d tokens: ORT vs naive %.3g, TF vs ORT %.3g (max |logit| %.3g)%n", label,
        FamilyConfigs.LONG, ortVsRef, tfVsOrt, Logits.maxAbs(ref, batch[1]));
    assertThat(ortVsRef).as(label + " ORT vs naive").isLessThanOrEqualTo(1e-4);
    assertThat(tfVsOrt).as(label + " TF vs ORT").isLessThanOrEqualTo(1e-4);
  }

  /** Prefill 300 tokens, then decode 12 one at a time through the KV cache; every step equals the full pass. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("labels")
  void kvCacheDecodingPastPosition300MatchesFullRecompute(String label) throws Exception {
    ModelConfig c = FamilyConfigs.all().get(label);
    ModelWeights w = FamilyConfigs.weights(c, 24);
    int[][][] batch = FamilyConfigs.longBatch(c.vocabSize());
    int total = 312;
    int prefill = 300;
    int[][] ids = OrtTestIo.slice(batch[0], 0, total);
    int[][] mask = OrtTestIo.slice(batch[1], 0, total);
    int[][] pos = OrtTestIo.slice(batch[2], 0, total);
    float[][][] expected = NaiveLlama.logits(w, ids, mask, pos);
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of());
    double[] worst = {0};
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, w, 1, "cpu")) {
      OrtTestIo.decodeWithCache(ENV, s.session(), c, ids, mask, pos, prefill, (done, len, r) -> {
        float[][][] logits = (float[][][]) r.get("logits").orElseThrow().getValue();
        float[][][] expectedStep = new float[ids.length][][];
        for (int b = 0; b < ids.length; b++) {
          expectedStep[b] = Arrays.copyOfRange(expected[b], done, done + len);
        }
        worst[0] = Math.max(worst[0], Logits.maxAbsDiff(logits, expectedStep, OrtTestIo.slice(mask, done, len)));
      });
    }
    System.out.printf("%s, KV-cache decode to %d tokens: ORT vs naive %.3g%n", label, total, worst[0]);
    assertThat(worst[0]).as(label + " KV-cache decoding").isLessThanOrEqualTo(1e-4);
  }

}
