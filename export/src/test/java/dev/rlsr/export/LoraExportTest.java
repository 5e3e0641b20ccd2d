// The serving export of a LoRA policy: model.onnx (weights inside or in model.onnx_data) with adapter inputs, and
// adapter.onnx_adapter that plain ONNX Runtime loads (OrtLoraAdapter.create) to give the merged model's logits.
package dev.rlsr.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoraAdapter;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.runtime.OnnxPolicySession;
import dev.rlsr.export.runtime.OnnxPolicySessions;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.testing.Logits;
import dev.rlsr.policy.testing.NaiveLlama;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RlsrException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LoraExportTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static final ModelConfig CONFIG = TinyCheckpoints.qwen2();
  static final LoraConfig LORA = new LoraConfig(4, 8, 0, List.of("q_proj", "k_proj", "v_proj", "o_proj", "up_proj"));
  static final int[][] IDS = {{0, 4, 9, 13, 21}, {6, 1, 22, 50, 3}};
  static final int[][] MASK = {{0, 0, 1, 1, 1}, {1, 1, 1, 1, 1}};
  static final int[][] POS = NaiveLlama.positionsFromMask(MASK);

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void theExportedAdapterGivesTheMergedLogitsAndTheModelAloneTheBase(boolean dataFile) throws Exception {
    ModelWeights w = ModelWeights.random(CONFIG, 11);
    LinkedHashMap<String, FloatTensor> adapter = LoraTestWeights.random(CONFIG, LORA, 2, 0.3);
    Path model = dir.resolve("model.onnx");
    Path adapterFile = dir.resolve(OnnxPolicyExporter.ADAPTER_FILE);
    if (dataFile) { // the layout of a large model: every tensor, adapter defaults too, in model.onnx_data
      OnnxPolicyExporter.writeModel(CONFIG, LORA, w, model, Map.of("k", "v"), 0);
      OnnxAdapterFormat.write(CONFIG, LORA, TensorSource.of(adapter), 7, adapterFile);
    } else {
      OnnxPolicyExporter.writeModelWithAdapter(CONFIG, LORA, w, TensorSource.of(adapter), 7, dir, Map.of("k", "v"));
    }
    assertThat(Files.exists(dir.resolve("model.onnx_data"))).isEqualTo(dataFile);
    byte[] head = Arrays.copyOfRange(Files.readAllBytes(adapterFile), 4, 8);
    assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo(OnnxAdapterFormat.FILE_IDENTIFIER);

    float[][][] base = NaiveLlama.logits(w, IDS, MASK, POS);
    float[][][] merged = NaiveLlama.logits(LoraTestWeights.merged(w, LORA, adapter), IDS, MASK, POS);
    try (OnnxPolicySession s = OnnxPolicySessions.open(ENV, model, 1, Device.CPU)) {
      float[][][] alone = OrtTestIo.forward(ENV, s.session(), CONFIG, IDS, MASK, POS);
      assertThat(Logits.maxAbsDiff(alone, base, MASK)).isLessThan(1e-4);
      float[][][] adapted;
      try (OrtLoraAdapter a = OrtLoraAdapter.create(adapterFile.toString());
          OrtSession.RunOptions ro = new OrtSession.RunOptions()) {
        ro.addActiveLoraAdapter(a);
        adapted = OrtTestIo.forward(ENV, s.session(), CONFIG, IDS, MASK, POS, ro);
      }
      assertThat(Logits.maxAbsDiff(adapted, merged, MASK)).isLessThan(1e-4);
      assertThat(Logits.maxAbsDiff(adapted, alone, MASK)).isGreaterThan(1e-2);

      // the same logits as the rollout graph fed the same adapter from memory
      byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(CONFIG, LORA, Map.of(),
          OnnxPolicyExporter.Logits.ALL);
      java.nio.ByteBuffer flat = OnnxAdapterFormat.encode(CONFIG, LORA, TensorSource.of(adapter), 7);
      try (OnnxPolicySession rollout = OnnxPolicySessions.createLora(ENV, proto, CONFIG, LORA, w, 1, Device.CPU);
          OrtLoraAdapter a = OrtLoraAdapter.create(flat);
          OrtSession.RunOptions ro = new OrtSession.RunOptions()) {
        ro.addActiveLoraAdapter(a);
        float[][][] fed = OrtTestIo.forward(ENV, rollout.session(), CONFIG, IDS, MASK, POS, ro);
        assertThat(Logits.maxAbsDiff(adapted, fed, MASK)).isLessThan(1e-6);
      } finally {
        dev.rlsr.policy.util.NativeBuffers.free(flat);
      }
      assertThat(s.session().getMetadata().getCustomMetadata()).containsKey(OnnxPolicyExporter.LORA_METADATA_KEY)
          .containsEntry("k", "v");
    }
  }

  @Test
  void anAdapterThatDoesNotFitIsRefusedBeforeAnythingIsWritten() {
    ModelWeights w = ModelWeights.random(CONFIG, 11);
    LinkedHashMap<String, FloatTensor> adapter = LoraTestWeights.random(CONFIG, LoraConfig.of(2), 2, 0.3);
    assertThatThrownBy(() -> OnnxPolicyExporter.writeModelWithAdapter(CONFIG, LORA, w, TensorSource.of(adapter), 1,
        dir.resolve("out"), Map.of()))
        .isInstanceOf(RlsrException.class).hasMessageContaining("lora_A.weight").hasMessageContaining("r=4");
    assertThat(Files.exists(dir.resolve("out"))).isFalse();
    assertThatThrownBy(() -> OnnxPolicyExporter.writeModel(CONFIG, LORA, w, dir.resolve("m.onnx"),
        Map.of(OnnxPolicyExporter.LORA_METADATA_KEY, "x"))).isInstanceOf(RlsrException.class)
        .hasMessageContaining("reserved");
  }
}
