// The fp16, q8 and q4 exports: each loads in plain ONNX Runtime with the float32 export's inputs and outputs (KV cache
// included), stores what StoredWeights documents (types, layouts, what stays float), and computes the model its
// stored weights describe: fp16 and q4 to 1e-4 of the naive reference run on the weights decoded here from the
// documented rule, q8 within its run-time activation quantization of that.
package dev.rlsr.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtEnvironment;
import dev.rlsr.export.runtime.OnnxPolicySession;
import dev.rlsr.export.runtime.OnnxPolicySessions;
import dev.rlsr.export.runtime.OrtRolloutEngine;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.testing.Logits;
import dev.rlsr.policy.testing.NaiveLlama;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class QuantizedExportTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static final int[][] IDS = {{0, 4, 9, 13, 21, 7}, {6, 1, 22, 50, 3, 11}};
  static final int[][] MASK = {{0, 0, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}};
  static final int[][] POS = NaiveLlama.positionsFromMask(MASK);
  static final int BLOCK = 16;

  @TempDir Path dir;

  /** A qwen2 (q/k/v biases, untied head) whose MLP width 40 is not a multiple of the q4 block: the last block pads. */
  static ModelConfig oddWidth() {
    return ModelConfig.builder("qwen2").vocabSize(TinyCheckpoints.VOCAB).hiddenSize(32).intermediateSize(40).layers(2)
        .heads(4).kvHeads(2).tied(false).maxPositions(64).build();
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(TinyCheckpoints.llama(), ExportDtype.FP16, false, false),
        Arguments.of(oddWidth(), ExportDtype.FP16, false, true),
        Arguments.of(TinyCheckpoints.llama(), ExportDtype.Q8, false, false),
        Arguments.of(oddWidth(), ExportDtype.Q8, true, true),
        Arguments.of(TinyCheckpoints.llama(), ExportDtype.Q4, false, false),
        Arguments.of(TinyCheckpoints.llama(true), ExportDtype.Q4, true, true), // tied head quantized as a copy
        Arguments.of(oddWidth(), ExportDtype.Q4, true, false));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void eachDtypeLoadsInPlainOrtAndComputesItsStoredWeights(ModelConfig c, ExportDtype dtype, boolean head,
      boolean dataFile) throws Exception {
    ModelWeights w = ModelWeights.random(c, 5);
    StoredWeights stored = StoredWeights.of(c, dtype, BLOCK, head);
    Path model = dir.resolve(dtype.fileName());
    OnnxPolicyExporter.writeModel(stored, null, w, model, Map.of("k", "v"), dataFile ? 0 : 1L << 30);
    assertThat(Files.exists(dir.resolve(dtype.dataFileName()))).isEqualTo(dataFile);

    // what the file holds: the documented types and layouts, embeddings and norms in float32
    OnnxMl.ModelProto proto = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(model));
    Map<String, OnnxMl.TensorProto> init = proto.getGraph().getInitializerList().stream()
        .collect(Collectors.toMap(OnnxMl.TensorProto::getName, t -> t));
    String q = "model.layers.0.mlp.down_proj.weight";                                     // [hidden, intermediate]
    long n = c.hiddenSize();
    long k = c.intermediateSize();
    switch (dtype) {
      case FP16 -> {
        assertThat(init.get(q + "_fp16").getDataType()).isEqualTo(OnnxMl.TensorProto.DataType.FLOAT16_VALUE);
        assertThat(init.get(q + "_fp16").getDimsList()).containsExactly(n, k);
        assertThat(init.get("model.embed_tokens.weight_fp16")).isNotNull();
      }
      case Q8 -> {
        assertThat(init.get(q + "_quantized").getDataType()).isEqualTo(OnnxMl.TensorProto.DataType.INT8_VALUE);
        assertThat(init.get(q + "_quantized").getDimsList()).containsExactly(k, n);
        assertThat(init.get(q + "_scale").getDimsList()).containsExactly(n);
      }
      case Q4 -> {
        long blocks = (k + BLOCK - 1) / BLOCK;
        assertThat(init.get(q + "_quantized").getDataType()).isEqualTo(OnnxMl.TensorProto.DataType.UINT8_VALUE);
        assertThat(init.get(q + "_quantized").getDimsList()).containsExactly(n, blocks, (long) BLOCK / 2);
        assertThat(init.get(q + "_scale").getDimsList()).containsExactly(n * blocks);
      }
      default -> throw new IllegalStateException();
    }
    if (dtype.quantized()) {
      assertThat(init.get("model.embed_tokens.weight").getDataType()).isEqualTo(OnnxMl.TensorProto.DataType.FLOAT_VALUE);
      assertThat(init).doesNotContainKey(q);
      assertThat(init.containsKey("lm_head.weight_quantized")).isEqualTo(head);
      assertThat(proto.getOpsetImportList()).anyMatch(o -> o.getDomain().equals("com.microsoft"));
      String op = dtype == ExportDtype.Q8 ? "DynamicQuantizeMatMul" : "MatMulNBits";
      assertThat(proto.getGraph().getNodeList().stream().filter(x -> x.getOpType().equals(op)).count())
          .isEqualTo(7L * c.numLayers() + (head ? 1 : 0));
    }
    assertThat(init.get("model.norm.weight").getDataType()).isEqualTo(OnnxMl.TensorProto.DataType.FLOAT_VALUE);
    Map<String, String> meta = proto.getMetadataPropsList().stream()
        .collect(Collectors.toMap(OnnxMl.StringStringEntryProto::getKey, OnnxMl.StringStringEntryProto::getValue));
    assertThat(meta).containsEntry("k", "v");
    assertThat(meta.get(OnnxPolicyExporter.QUANTIZATION_METADATA_KEY)).contains("\"dtype\":\"" + dtype + "\"");

    // what it computes
    ModelWeights decoded = decode(w, dtype, head);
    float[][][] expected = NaiveLlama.logits(decoded, IDS, MASK, POS);
    float[][][] fp32 = NaiveLlama.logits(w, IDS, MASK, POS);
    float[][][] got;
    try (OnnxPolicySession s = OnnxPolicySessions.open(ENV, model, 1, Device.CPU)) {
      assertThat(s.session().getInputNames()).containsExactlyInAnyOrderElementsOf(plainInputs(c));
      got = OrtTestIo.forward(ENV, s.session(), c, IDS, MASK, POS);
    }
    double vsDecoded = Logits.maxAbsDiff(got, expected, MASK);
    double drift = Logits.maxAbsDiff(got, fp32, MASK);
    if (dtype == ExportDtype.Q8) { // x is quantized to uint8 per tensor as the model runs
      assertThat(vsDecoded).isLessThan(0.02 * Logits.maxAbs(expected, MASK));
    } else {
      assertThat(vsDecoded).isLessThan(1e-4);
    }
    // 4 bits move a tiny random model's logits most (at real size see `rlsr bench dtypes`)
    assertThat(drift).as("quantization changes the logits, boundedly").isGreaterThan(0)
        .isLessThan((dtype == ExportDtype.Q4 ? 0.5 : 0.1) * Logits.maxAbs(fp32, MASK));

    // the KV-cache decoding of the export works as the float32 one does
    try (OrtRolloutEngine e = OrtRolloutEngine.open(model, c, 1, Device.CPU)) {
      List<Rollout> r = e.sample(List.of(new int[] {4, 9, 13}, new int[] {6, 1}),
          SamplingOptions.greedy(5, List.of(), 0));
      assertThat(r).hasSize(2).allMatch(x -> x.tokens().length == 5);
      // greedy decoding with the cache picks the decoded model's argmax at the first step
      int[][] ids = {{4, 9, 13}};
      float[] last = NaiveLlama.logits(decoded, ids, new int[][] {{1, 1, 1}}, new int[][] {{0, 1, 2}})[0][2];
      int best = 0;
      for (int v = 1; v < last.length; v++) {
        best = last[v] > last[best] ? v : best;
      }
      assertThat(r.get(0).tokens()[0]).isEqualTo(best);
    }
  }

  @Test
  void q4AtAccuracyLevelFourComputesInInt8NearTheDecodedWeights() throws Exception {
    ModelConfig c = TinyCheckpoints.llama();
    ModelWeights w = ModelWeights.random(c, 9);
    Path model = dir.resolve("model_q4.onnx");
    OnnxPolicyExporter.writeModel(StoredWeights.of(c, ExportDtype.Q4, BLOCK, false).q4AccuracyLevel(4), null, w, model,
        Map.of(), 1L << 30);
    OnnxMl.ModelProto proto = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(model));
    assertThat(proto.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("MatMulNBits"))
        .flatMap(n -> n.getAttributeList().stream()).filter(a -> a.getName().equals("accuracy_level"))
        .mapToLong(OnnxMl.AttributeProto::getI).distinct().boxed().toList()).containsExactly(4L);
    float[][][] expected = NaiveLlama.logits(decode(w, ExportDtype.Q4, false), IDS, MASK, POS);
    try (OnnxPolicySession s = OnnxPolicySessions.open(ENV, model, 1, Device.CPU)) {
      float[][][] got = OrtTestIo.forward(ENV, s.session(), c, IDS, MASK, POS);
      assertThat(Logits.maxAbsDiff(got, expected, MASK)).isLessThan(0.02 * Logits.maxAbs(expected, MASK));
    }
    assertThatThrownBy(() -> StoredWeights.of(c, ExportDtype.Q4, BLOCK, false).q4AccuracyLevel(5))
        .isInstanceOf(RlsrException.class).hasMessageContaining("--q4-accuracy-level");
  }

  @Test
  void quantizedExportsShrinkTheWeightsAsDocumented() {
    ModelConfig c = TinyCheckpoints.llama();
    long fp32 = StoredWeights.of(c, ExportDtype.FP32, BLOCK, false).totalBytes();
    long fp16 = StoredWeights.of(c, ExportDtype.FP16, BLOCK, false).totalBytes();
    // matrices halved, the 2 norms of each layer and the final one kept
    assertThat(fp16 * 2).isEqualTo(fp32 + 4L * (2 * c.numLayers() + 1) * c.hiddenSize());
    long projections = 0;
    for (var e : ModelWeights.layout(c).entrySet()) {
      if (StoredWeights.isProjection(e.getKey())) {
        projections += FloatTensor.numel(e.getValue());
      }
    }
    long q8 = StoredWeights.of(c, ExportDtype.Q8, BLOCK, false).totalBytes();
    long q4 = StoredWeights.of(c, ExportDtype.Q4, BLOCK, false).totalBytes();
    assertThat(fp32 - q8).isEqualTo(3 * projections - scales(c, ExportDtype.Q8));
    assertThat(fp32 - q4).isEqualTo(4 * projections - projections / 2 - scales(c, ExportDtype.Q4));
    assertThatThrownBy(() -> StoredWeights.of(c, ExportDtype.Q4, 24, false)).isInstanceOf(RlsrException.class)
        .hasMessageContaining("--q4-block-size");
  }

  @Test
  void halfPrecisionRoundsToNearestEven() {
    assertThat(StoredWeights.Half.fromFloat(1f)).isEqualTo((short) 0x3c00);
    assertThat(StoredWeights.Half.fromFloat(-2f)).isEqualTo((short) 0xc000);
    assertThat(StoredWeights.Half.fromFloat(65504f)).isEqualTo((short) 0x7bff);
    assertThat(StoredWeights.Half.fromFloat(65520f)).isEqualTo((short) 0x7c00);       // rounds up to infinity
    assertThat(StoredWeights.Half.fromFloat(0.1f)).isEqualTo((short) 0x2e66);
    assertThat(StoredWeights.Half.fromFloat(5.9604645e-8f)).isEqualTo((short) 0x0001); // smallest subnormal
    assertThat(StoredWeights.Half.fromFloat(2.9802322e-8f)).isEqualTo((short) 0x0000); // half of it: ties to even
    assertThat(StoredWeights.Half.fromFloat(6.1035156e-5f)).isEqualTo((short) 0x0400); // smallest normal
    assertThat(StoredWeights.Half.fromFloat(1f + 1f / 2048)).isEqualTo((short) 0x3c00); // tie: to even
    assertThat(StoredWeights.Half.fromFloat(1f + 3f / 2048)).isEqualTo((short) 0x3c02);
    assertThat(StoredWeights.Half.fromFloat(Float.NaN) & 0x7c00).isEqualTo(0x7c00);
    for (float f = -3f; f < 3f; f += 0.0137f) {
      assertThat(Math.abs(half(StoredWeights.Half.fromFloat(f)) - f)).isLessThanOrEqualTo(Math.abs(f) / 2048 + 1e-7f);
    }
  }

  private static long scales(ModelConfig c, ExportDtype dtype) {
    long sum = 0;
    for (var e : ModelWeights.layout(c).entrySet()) {
      if (StoredWeights.isProjection(e.getKey())) {
        long n = e.getValue()[0];
        long k = e.getValue()[1];
        sum += 4 * (dtype == ExportDtype.Q8 ? n : n * ((k + BLOCK - 1) / BLOCK));
      }
    }
    return sum;
  }

  private static List<String> plainInputs(ModelConfig c) {
    List<String> names = new java.util.ArrayList<>(List.of("input_ids", "attention_mask", "position_ids"));
    for (int i = 0; i < c.numLayers(); i++) {
      names.add("past_key_values." + i + ".key");
      names.add("past_key_values." + i + ".value");
    }
    return names;
  }

  /** The weights a {@code dtype} export stores, decoded here by the rule StoredWeights documents. */
  static ModelWeights decode(ModelWeights w, ExportDtype dtype, boolean head) {
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    for (var e : w.tensors().entrySet()) {
      String name = e.getKey();
      FloatTensor t = e.getValue();
      boolean matrix = t.shape().length == 2;
      if (dtype == ExportDtype.FP16 && matrix) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) {
          d[i] = half(StoredWeights.Half.fromFloat(d[i]));
        }
        out.put(name, new FloatTensor(t.shape(), d));
      } else if (dtype.quantized() && (StoredWeights.isProjection(name) || head && name.equals("lm_head.weight"))) {
        out.put(name, dequantize(t, dtype));
      } else {
        out.put(name, t);
      }
    }
    if (head && dtype.quantized() && w.config().tieWordEmbeddings()) {
      // the head multiplies by its own quantized copy of the embeddings: the same model untied
      if (!w.config().equals(TinyCheckpoints.llama(true))) {
        throw new IllegalArgumentException("only the tiny tied llama is decoded untied here");
      }
      out.put("lm_head.weight", dequantize(w.get("model.embed_tokens.weight"), dtype));
      return new ModelWeights(TinyCheckpoints.llama(false), out);
    }
    return new ModelWeights(w.config(), out);
  }

  static FloatTensor dequantize(FloatTensor t, ExportDtype dtype) {
    int n = (int) t.shape()[0];
    int k = (int) t.shape()[1];
    float[] d = new float[n * k];
    int block = dtype == ExportDtype.Q8 ? k : BLOCK;
    float levels = dtype == ExportDtype.Q8 ? 127f : 7f;
    for (int row = 0; row < n; row++) {
      for (int from = 0; from < k; from += block) {
        int to = Math.min(k, from + block);
        float amax = 0;
        for (int j = from; j < to; j++) {
          amax = Math.max(amax, Math.abs(t.data()[row * k + j]));
        }
        float scale = amax > 0 ? amax / levels : 1f;
        for (int j = from; j < to; j++) {
          int q = Math.round(t.data()[row * k + j] / scale);
          q = dtype == ExportDtype.Q8 ? Math.max(-127, Math.min(127, q)) : Math.max(-8, Math.min(7, q));
          d[row * k + j] = q * scale;
        }
      }
    }
    return new FloatTensor(t.shape(), d);
  }

  /** binary16 bits to float. */
  static float half(short h) {
    int bits = h & 0xffff;
    int sign = bits >>> 15;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    float v = exp == 0 ? mant * 0x1p-24f : exp == 31 ? (mant == 0 ? Float.POSITIVE_INFINITY : Float.NaN)
        : (1 + mant / 1024f) * (float) Math.pow(2, exp - 15);
    return sign == 1 ? -v : v;
  }
}
