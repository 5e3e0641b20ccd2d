// ONNX Runtime vs the naive reference and vs the TensorFlow graph for every family variant (qwen3 q/k norm, llama3
// and linear rope scaling, mistral, qwen2 with an unused sliding window) on batches of 320 tokens, and KV-cache
// decoding past position 300 against full recomputation.
package dev.rlsr.export;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.runtime.OnnxPolicySession;
import dev.rlsr.export.runtime.OnnxPolicySessions;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.testing.FamilyConfigs;
import dev.rlsr.policy.testing.NaiveLlama;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class FamilyOrtParityTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  static List<String> labels() {
    return FamilyConfigs.labels();
  }

  private static float[][][] tfLogits(ModelWeights w, int[][] ids, int[][] mask, int[][] pos) {
    try (PolicyGraph g = PolicyGraph.create(w, PolicyGraph.Options.inference(1), List.of())) {
      float[] flat = g.logits(ids, mask, pos);
      int v = w.config().vocabSize();
      float[][][] out = new float[ids.length][ids[0].length][v];
      for (int b = 0; b < ids.length; b++) {
        for (int t = 0; t < ids[0].length; t++) {
          System.arraycopy(flat, (b * ids[0].length + t) * v, out[b][t], 0, v);
        }
      }
      return out;
    }
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
    float[][][] tf = tfLogits(w, batch[0], batch[1], batch[2]);
    double ortVsRef = FamilyConfigs.maxAbsDiff(ort, ref, batch[1]);
    double tfVsOrt = FamilyConfigs.maxAbsDiff(tf, ort, batch[1]);
    System.out.printf("%s, %d tokens: ORT vs naive %.3g, TF vs ORT %.3g (max |logit| %.3g)%n", label,
        FamilyConfigs.LONG, ortVsRef, tfVsOrt, FamilyConfigs.maxAbs(ref, batch[1]));
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
    int[][] ids = slice(batch[0], 0, total);
    int[][] mask = slice(batch[1], 0, total);
    int[][] pos = slice(batch[2], 0, total);
    float[][][] expected = NaiveLlama.logits(w, ids, mask, pos);
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of());
    double worst = 0;
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, w, 1, "cpu")) {
      OrtSession.Result previous = null;
      try {
        int done = 0;
        while (done < total) {
          int len = done == 0 ? prefill : 1;
          Map<String, OnnxTensor> owned = new LinkedHashMap<>();
          owned.put("input_ids", OrtTestIo.longs(ENV, slice(ids, done, len)));
          owned.put("attention_mask", OrtTestIo.longs(ENV, slice(mask, 0, done + len)));
          owned.put("position_ids", OrtTestIo.longs(ENV, slice(pos, done, len)));
          Map<String, OnnxTensor> in = new LinkedHashMap<>(owned);
          for (int i = 0; i < c.numLayers(); i++) {
            for (String kv : new String[] {"key", "value"}) {
              String name = "past_key_values." + i + "." + kv;
              if (previous == null) {
                OnnxTensor empty = OnnxTensor.createTensor(ENV, java.nio.FloatBuffer.allocate(0),
                    new long[] {ids.length, c.numKvHeads(), 0, c.headDim()});
                owned.put(name, empty);
                in.put(name, empty);
              } else {
                in.put(name, (OnnxTensor) previous.get("present." + i + "." + kv).orElseThrow());
              }
            }
          }
          OrtSession.Result r;
          try {
            r = s.session().run(in);
          } finally {
            owned.values().forEach(OnnxTensor::close);
          }
          if (previous != null) {
            previous.close();
          }
          previous = r;
          float[][][] logits = (float[][][]) r.get("logits").orElseThrow().getValue();
          float[][][] expectedStep = new float[ids.length][][];
          for (int b = 0; b < ids.length; b++) {
            expectedStep[b] = Arrays.copyOfRange(expected[b], done, done + len);
          }
          worst = Math.max(worst, FamilyConfigs.maxAbsDiff(logits, expectedStep, slice(mask, done, len)));
          done += len;
        }
      } finally {
        if (previous != null) {
          previous.close();
        }
      }
    }
    System.out.printf("%s, KV-cache decode to %d tokens: ORT vs naive %.3g%n", label, total, worst);
    assertThat(worst).as(label + " KV-cache decoding").isLessThanOrEqualTo(1e-4);
  }

  private static int[][] slice(int[][] a, int from, int len) {
    int[][] out = new int[a.length][];
    for (int b = 0; b < a.length; b++) {
      out[b] = Arrays.copyOfRange(a[b], from, from + len);
    }
    return out;
  }
}
