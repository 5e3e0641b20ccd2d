// writeModel streams the weights: the embedded model.onnx, parsed back, is the proto buildEmbedded assembles in
// memory; the external data file holds each tensor's little-endian floats at its aligned offset; either file gives
// the reference logits in ONNX Runtime.
package dev.rlsr.export;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtEnvironment;
import dev.rlsr.export.runtime.OnnxPolicySession;
import dev.rlsr.export.runtime.OnnxPolicySessions;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.checkpoint.SafetensorsSource;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.testing.Logits;
import dev.rlsr.policy.testing.NaiveLlama;
import dev.rlsr.policy.testing.TinyCheckpoints;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamedExportTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static final int[][] IDS = {{0, 4, 9, 13, 200}, {6, 1, 22, 50, 7}};
  static final int[][] MASK = {{0, 1, 1, 1, 1}, {1, 1, 1, 1, 1}};
  static final int[][] POS = NaiveLlama.positionsFromMask(MASK);

  @TempDir Path dir;

  @Test
  void theStreamedEmbeddedModelIsTheProtoBuiltInMemory() throws Exception {
    ModelConfig c = TinyCheckpoints.qwen2(false);
    ModelWeights w = ModelWeights.random(c, 3);
    Path file = dir.resolve("embedded/model.onnx");
    Path weights = dir.resolve("w.safetensors");
    Safetensors.write(weights, w.tensors(), Safetensors.DType.F32, Map.of());
    try (SafetensorsSource src = SafetensorsSource.open(weights)) {
      OnnxPolicyExporter.writeModel(c, src, file, Map.of("rlsr.run", "x"));
    }
    assertThat(file.resolveSibling("model.onnx_data")).doesNotExist();
    OnnxMl.ModelProto parsed = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(file));
    OnnxMl.ModelProto built = OnnxPolicyExporter.buildEmbedded(w, Map.of("rlsr.run", "x"));
    assertThat(parsed).isEqualTo(built);
    assertThat(parsed.getGraph().getInitializer(0).getName()).isEqualTo("model.embed_tokens.weight");
    assertThat(parsed.getGraph().getInitializer(0).getRawData().size()).isEqualTo(w.get("model.embed_tokens.weight")
        .data().length * 4);
    try (OnnxPolicySession s = OnnxPolicySessions.open(ENV, file, 1, "cpu")) {
      assertThat(Logits.maxAbsDiff(OrtTestIo.forward(ENV, s.session(), c, IDS, MASK, POS),
          NaiveLlama.logits(w, IDS, MASK, POS), MASK)).isLessThan(1e-4);
    }
  }

  @Test
  void externalDataHoldsEachTensorAtItsOffset() throws Exception {
    ModelConfig c = TinyCheckpoints.llama(true);
    ModelWeights w = ModelWeights.random(c, 4);
    Path file = dir.resolve("external/model.onnx");
    OnnxPolicyExporter.writeModel(c, w, file, Map.of(), 1000); // over 1000 bytes: a data file
    Path data = file.resolveSibling("model.onnx_data");
    byte[] bytes = Files.readAllBytes(data);
    var offsets = OnnxPolicyExporter.externalOffsets(c);
    for (var e : offsets.entrySet()) {
      assertThat(e.getValue() % OnnxPolicyExporter.DATA_ALIGNMENT).isZero();
      float[] want = w.get(e.getKey()).data();
      ByteBuffer b = ByteBuffer.wrap(bytes, (int) (long) e.getValue(), want.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      float[] got = new float[want.length];
      b.asFloatBuffer().get(got);
      assertThat(got).as(e.getKey()).isEqualTo(want);
    }
    OnnxMl.ModelProto proto = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(file));
    assertThat(proto.getGraph().getInitializerList().stream()
        .filter(t -> t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL).count())
        .isEqualTo(ModelWeights.layout(c).size());
    try (OnnxPolicySession s = OnnxPolicySessions.open(ENV, file, 1, "cpu")) {
      assertThat(Logits.maxAbsDiff(OrtTestIo.forward(ENV, s.session(), c, IDS, MASK, POS),
          NaiveLlama.logits(w, IDS, MASK, POS), MASK)).isLessThan(1e-4);
    }
  }
}
