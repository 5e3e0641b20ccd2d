// Weight sync: sessions fed external initializers equal sessions over a written model, follow new weights, and
// refuse unusable options with messages that name the flag.
package dev.rlsr.export.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.OrtTestIo;
import dev.rlsr.policy.testing.Logits;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.testing.NaiveLlama;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxPolicySessionsTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static final ModelConfig CONFIG = ModelConfig.builder("llama").vocabSize(64).hiddenSize(32).intermediateSize(48)
      .layers(2).heads(4).kvHeads(2).tied(true).ropeTheta(10000).maxPositions(128).bosId(1).eosId(2).build();
  static final int[][] IDS = {{0, 4, 9, 13}, {6, 1, 22, 50}};
  static final int[][] MASK = {{0, 1, 1, 1}, {1, 1, 1, 1}};
  static final int[][] POS = NaiveLlama.positionsFromMask(MASK);

  @TempDir Path dir;

  @Test
  void externalInitializersEqualEmbeddedWeightsAndFollowNewWeights() throws Exception {
    ModelWeights w = ModelWeights.random(CONFIG, 31);
    Path file = dir.resolve("model.onnx");
    OnnxPolicyExporter.writeModel(w, file, Map.of());
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(CONFIG, Map.of());
    // No weight bytes in the sync proto: every HF tensor is an EXTERNAL initializer without data.
    var graph = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(proto).getGraph();
    var declared = graph.getInitializerList().stream()
        .filter(t -> t.getDataLocation() == ai.onnx.proto.OnnxMl.TensorProto.DataLocation.EXTERNAL)
        .peek(t -> assertThat(t.getRawData().isEmpty()).isTrue())
        .map(ai.onnx.proto.OnnxMl.TensorProto::getName).toList();
    assertThat(declared).containsExactlyElementsOf(ModelWeights.layout(CONFIG).keySet());

    float[][][] fromFile;
    float[][][] synced;
    try (OnnxPolicySession s = OnnxPolicySessions.open(ENV, file, 1, "cpu")) {
      fromFile = OrtTestIo.forward(ENV, s.session(), CONFIG, IDS, MASK, POS);
    }
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, w, 1, "cpu")) {
      synced = OrtTestIo.forward(ENV, s.session(), CONFIG, IDS, MASK, POS);
    }
    assertThat(Logits.maxAbsDiff(synced, fromFile, MASK)).isLessThan(1e-6);

    // An optimiser step: new weights, new session from the same proto.
    ModelWeights moved = w.copy();
    SplittableRandom rng = new SplittableRandom(5);
    moved.tensors().values().forEach(t -> {
      for (int i = 0; i < t.data().length; i++) {
        t.data()[i] += (float) (rng.nextDouble(-0.05, 0.05));
      }
    });
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, moved, 1, "cpu")) {
      float[][][] after = OrtTestIo.forward(ENV, s.session(), CONFIG, IDS, MASK, POS);
      assertThat(Logits.maxAbsDiff(after, NaiveLlama.logits(moved, IDS, MASK, POS), MASK)).isLessThan(1e-4);
      assertThat(Logits.maxAbsDiff(after, synced, MASK)).isGreaterThan(1e-2);
    }
  }

  @Test
  void weightsOfAnotherShapeAreRefusedByName() {
    ModelConfig wider = ModelConfig.builder("llama").vocabSize(64).hiddenSize(40).intermediateSize(48).layers(2)
        .heads(4).kvHeads(2).headDim(8).tied(true).ropeTheta(10000).maxPositions(128).bosId(1).eosId(2).build();
    ModelWeights w = ModelWeights.random(wider, 1);
    ModelWeights mislabelled = new ModelWeights(CONFIG, w.tensors());
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(CONFIG, Map.of());
    assertThatThrownBy(() -> OnnxPolicySessions.create(ENV, proto, mislabelled, 1, "cpu"))
        .isInstanceOf(RlsrException.class).hasMessageContaining("model.embed_tokens.weight");
  }

  @Test
  void cudaWithoutCudaSaysWhatToDo() {
    Assumptions.assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA), "CUDA present");
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(CONFIG, Map.of());
    ModelWeights w = ModelWeights.random(CONFIG, 1);
    assertThatThrownBy(() -> OnnxPolicySessions.create(ENV, proto, w, 1, "cuda"))
        .isInstanceOf(RlsrException.class)
        .hasMessageContaining("CUDA is not available").hasMessageContaining("--device cpu").hasMessageContaining("-Pgpu");
  }

  @Test
  void badOptionsNameTheFlag() {
    assertThatThrownBy(() -> OnnxPolicySessions.options(0, "cpu")).hasMessageContaining("--threads");
    assertThatThrownBy(() -> OnnxPolicySessions.options(1, "tpu")).hasMessageContaining("--device");
    assertThatThrownBy(() -> OnnxPolicyExporter.buildWithExternalWeights(CONFIG, Map.of("rlsr.config", "x")))
        .isInstanceOf(RlsrException.class).hasMessageContaining("rlsr.config");
    assertThatThrownBy(() -> OnnxPolicyExporter.buildWithExternalWeights(CONFIG, Map.of("rlsr.logits", "x")))
        .isInstanceOf(RlsrException.class).hasMessageContaining("reserved");
  }
}
