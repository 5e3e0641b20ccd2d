// A written model.onnx is usable by anyone with ONNX Runtime: the test bodies use only the ai.onnxruntime API
// (the files and the expected logits are prepared in @BeforeAll with rlsr's exporter and the naive reference).
package dev.rlsr.export;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.testing.NaiveLlama;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlainOrtLoadTest {
  static final int LAYERS = 2;
  static final int KV_HEADS = 2;
  static final int HEAD_DIM = 8;
  static final long[][] IDS = {{0, 0, 5, 17, 3}, {8, 2, 33, 12, 7}};
  static final long[][] MASK = {{0, 0, 1, 1, 1}, {1, 1, 1, 1, 1}};
  static final long[][] POS = {{0, 0, 0, 1, 2}, {0, 1, 2, 3, 4}};

  @TempDir static Path dir;
  static Path embedded;
  static Path external;
  static float[][][] expected;

  @BeforeAll
  static void writeModels() {
    ModelConfig c = ModelConfig.builder("qwen2").vocabSize(64).hiddenSize(32).intermediateSize(48).layers(LAYERS)
        .heads(4).kvHeads(KV_HEADS).headDim(HEAD_DIM).tied(false).ropeTheta(10000).maxPositions(128).bosId(1).eosId(2)
        .build();
    ModelWeights w = ModelWeights.random(c, 21);
    embedded = dir.resolve("embedded/model.onnx");
    external = dir.resolve("external/model.onnx");
    OnnxPolicyExporter.writeModel(w, embedded, Map.of("rlsr.run", "{\"lr\":1e-5}"));
    OnnxPolicyExporter.writeModel(w, external, Map.of(), 0);   // limit 0: weights go to model.onnx.data
    int[][] ids = toInts(IDS);
    int[][] mask = toInts(MASK);
    expected = NaiveLlama.logits(w, ids, mask, toInts(POS));
  }

  @Test
  void embeddedModelLoadsAndMatchesNaive() throws Exception {
    assertThat(Files.exists(embedded.resolveSibling("model.onnx_data"))).isFalse();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
         OrtSession s = env.createSession(embedded.toString(), opts)) {
      assertThat(maxDiff(run(env, s))).isLessThan(1e-4);
      Map<String, String> meta = s.getMetadata().getCustomMetadata();
      assertThat(s.getMetadata().getProducerName()).isEqualTo("rlsr");
      assertThat(meta).containsEntry("rlsr.run", "{\"lr\":1e-5}");
      assertThat(meta.get("rlsr.config")).contains("\"model_type\":\"qwen2\"");
      assertThat(s.getInputNames()).contains("input_ids", "attention_mask", "position_ids", "past_key_values.1.value");
      assertThat(s.getOutputNames()).contains("logits", "present.0.key", "present.1.value");
    }
  }

  @Test
  void externalDataModelLoadsAndMatchesNaive() throws Exception {
    assertThat(Files.size(external.resolveSibling("model.onnx_data"))).isGreaterThan(Files.size(external));
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
         OrtSession s = env.createSession(external.toString(), opts)) {
      assertThat(maxDiff(run(env, s))).isLessThan(1e-4);
    }
  }

  private static float[][][] run(OrtEnvironment env, OrtSession s) throws Exception {
    Map<String, OnnxTensor> in = new HashMap<>();
    try {
      in.put("input_ids", longs(env, IDS));
      in.put("attention_mask", longs(env, MASK));
      in.put("position_ids", longs(env, POS));
      for (int i = 0; i < LAYERS; i++) {
        long[] shape = {IDS.length, KV_HEADS, 0, HEAD_DIM};
        in.put("past_key_values." + i + ".key", OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
        in.put("past_key_values." + i + ".value", OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
      }
      try (OrtSession.Result r = s.run(in)) {
        return (float[][][]) r.get("logits").orElseThrow().getValue();
      }
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  private static OnnxTensor longs(OrtEnvironment env, long[][] a) throws Exception {
    LongBuffer b = LongBuffer.allocate(a.length * a[0].length);
    for (long[] row : a) {
      b.put(row);
    }
    return OnnxTensor.createTensor(env, b.rewind(), new long[] {a.length, a[0].length});
  }

  private static double maxDiff(float[][][] actual) {
    double max = 0;
    for (int b = 0; b < actual.length; b++) {
      for (int t = 0; t < actual[b].length; t++) {
        if (MASK[b][t] == 1) {
          for (int v = 0; v < actual[b][t].length; v++) {
            max = Math.max(max, Math.abs(actual[b][t][v] - expected[b][t][v]));
          }
        }
      }
    }
    return max;
  }

  private static int[][] toInts(long[][] a) {
    int[][] out = new int[a.length][];
    for (int i = 0; i < a.length; i++) {
      out[i] = java.util.Arrays.stream(a[i]).mapToInt(Math::toIntExact).toArray();
    }
    return out;
  }
}
