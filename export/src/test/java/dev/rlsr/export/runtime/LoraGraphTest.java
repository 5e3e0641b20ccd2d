// The LoRA rollout graph: adapter tensors are overridable initializers (graph inputs with zero defaults), so the
// graph run without them is the base model and run with them (an active OrtLoraAdapter) the merged model.
package dev.rlsr.export.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoraAdapter;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.OnnxAdapterFormat;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.NativeBuffers;
import java.nio.ByteBuffer;
import dev.rlsr.export.Device;
import dev.rlsr.export.LoraTestWeights;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.OnnxPolicyExporter.Logits;
import dev.rlsr.export.OrtTestIo;
import dev.rlsr.export.PolicyIo;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.testing.NaiveLlama;
import dev.rlsr.policy.testing.TinyCheckpoints;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LoraGraphTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static final int[][] IDS = {{0, 4, 9, 13, 21}, {6, 1, 22, 50, 3}};
  static final int[][] MASK = {{0, 0, 1, 1, 1}, {1, 1, 1, 1, 1}};
  static final int[][] POS = NaiveLlama.positionsFromMask(MASK);

  static Stream<Arguments> cases() {
    return Stream.of(
        // llama, every linear layer, both logits variants
        Arguments.of(OnnxPolicySessionsTest.CONFIG, LoraConfig.of(4), Logits.ALL),
        Arguments.of(OnnxPolicySessionsTest.CONFIG, LoraConfig.of(4), Logits.LAST),
        // qwen2 (q/k/v biases), some modules, alpha != 2r
        Arguments.of(TinyCheckpoints.qwen2(), new LoraConfig(3, 5, 0, List.of("q_proj", "v_proj", "down_proj")),
            Logits.ALL));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void adapterInputsDefaultToTheBaseAndFedGiveTheMergedModel(ModelConfig c, LoraConfig lora, Logits which)
      throws Exception {
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(c, lora, Map.of(), which);
    LinkedHashMap<String, long[]> adapterLayout = lora.layout(c);

    // Declared as overridable initializers: each adapter tensor is a graph input and an EXTERNAL initializer.
    OnnxMl.ModelProto model = OnnxMl.ModelProto.parseFrom(proto);
    assertThat(model.getIrVersion()).isGreaterThanOrEqualTo(4);
    Set<String> inputs = model.getGraph().getInputList().stream().map(OnnxMl.ValueInfoProto::getName)
        .collect(Collectors.toSet());
    Set<String> initializers = model.getGraph().getInitializerList().stream()
        .filter(t -> t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL)
        .map(OnnxMl.TensorProto::getName).collect(Collectors.toSet());
    assertThat(inputs).containsAll(adapterLayout.keySet());
    assertThat(initializers).containsAll(adapterLayout.keySet()).containsAll(ModelWeights.layout(c).keySet());
    assertThat(model.getMetadataPropsList().stream()
        .filter(p -> p.getKey().equals(OnnxPolicyExporter.LORA_METADATA_KEY)).findFirst().orElseThrow().getValue())
        .contains("\"r\":" + lora.r());

    ModelWeights w = ModelWeights.random(c, 17);
    LinkedHashMap<String, FloatTensor> adapter = LoraTestWeights.random(c, lora, 3, 0.3);
    byte[] plainProto = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of(), which);
    float[][][] base;
    float[][][] mergedLogits;
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, plainProto, c, w, 1, Device.CPU)) {
      base = OrtTestIo.forward(ENV, s.session(), c, IDS, MASK, POS);
    }
    try (OnnxPolicySession s = OnnxPolicySessions.create(ENV, plainProto, c, LoraTestWeights.merged(w, lora, adapter), 1,
        Device.CPU)) {
      mergedLogits = OrtTestIo.forward(ENV, s.session(), c, IDS, MASK, POS);
    }
    int[][] mask = which == Logits.ALL ? MASK : new int[][] {{1}, {1}};
    try (OnnxPolicySession s = OnnxPolicySessions.createLora(ENV, proto, c, lora, w, 1, Device.CPU)) {
      // ONNX Runtime requires only the policy I/O: the adapter inputs are optional
      assertThat(s.session().getInputNames()).doesNotContainAnyElementsOf(adapterLayout.keySet())
          .contains(PolicyIo.INPUT_IDS);
      float[][][] unfed = OrtTestIo.forward(ENV, s.session(), c, IDS, MASK, POS);
      assertThat(dev.rlsr.policy.testing.Logits.maxAbsDiff(unfed, base, mask)).isEqualTo(0.0);

      // The Java API refuses inputs outside getInputNames(), so the adapter cannot be fed as OnnxTensors ...
      LinkedHashMap<String, OnnxTensor> fed = LoraTestWeights.tensors(ENV, adapter);
      try {
        assertThatThrownBy(() -> OrtTestIo.forward(ENV, s.session(), c, IDS, MASK, POS, fed))
            .isInstanceOf(OrtException.class).hasMessageContaining("inputs");
      } finally {
        fed.values().forEach(OnnxTensor::close);
      }
      // ... but as an active OrtLoraAdapter (the .onnx_adapter flatbuffer) in the run options.
      ByteBuffer flat = OnnxAdapterFormat.encode(c, lora, TensorSource.of(adapter), 1);
      OrtLoraAdapter a;
      try {
        a = OrtLoraAdapter.create(flat);
        // ONNX Runtime copied the buffer: overwriting it changes nothing
        while (flat.hasRemaining()) {
          flat.put((byte) 0x7f);
        }
      } finally {
        NativeBuffers.free(flat);
      }
      try (a; OrtSession.RunOptions ro = new OrtSession.RunOptions()) {
        ro.addActiveLoraAdapter(a);
        float[][][] adapted = OrtTestIo.forward(ENV, s.session(), c, IDS, MASK, POS, ro);
        assertThat(dev.rlsr.policy.testing.Logits.maxAbsDiff(adapted, mergedLogits, mask)).isLessThan(1e-4);
        assertThat(dev.rlsr.policy.testing.Logits.maxAbsDiff(adapted, base, mask))
            .as("the adapter changes the logits").isGreaterThan(1e-2);
        if (which == Logits.ALL) {
          ModelWeights merged = LoraTestWeights.merged(w, lora, adapter);
          assertThat(dev.rlsr.policy.testing.Logits.maxAbsDiff(adapted, NaiveLlama.logits(merged, IDS, MASK, POS), MASK))
              .isLessThan(1e-4);
        }
      }
      // Not feeding them again gives the base again: nothing of a run's feed stays in the session.
      float[][][] again = OrtTestIo.forward(ENV, s.session(), c, IDS, MASK, POS);
      assertThat(dev.rlsr.policy.testing.Logits.maxAbsDiff(again, base, mask)).isEqualTo(0.0);
    }
  }
}
