// The family seam: model_type picks the family, each family's refusals keep their messages (file and key), the
// layout and the architecture follow the family, and the shared rotary frequencies are the Hugging Face ones.
package dev.rlsr.policy.model.family;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.Attention;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.Rope;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelFamiliesTest {
  private static ModelConfig edited(ModelConfig base, Consumer<ObjectNode> edit) {
    ObjectNode c = base.toJson();
    edit.accept(c);
    return ModelConfig.fromJson(c, "dir/config.json");
  }

  @Test
  void unknownModelTypeIsRefusedListingTheSupportedOnes() {
    assertThat(ModelFamilies.supportedTypes()).containsExactly("llama", "qwen2", "qwen3", "mistral");
    assertThatThrownBy(() -> edited(TinyCheckpoints.llama(), c -> c.put("model_type", "gemma")))
        .isInstanceOf(RlsrException.class)
        .hasMessage("dir/config.json: model_type \"gemma\" is not supported (supported: llama, qwen2, qwen3, mistral)");
    assertThatThrownBy(() -> edited(TinyCheckpoints.llama(), c -> c.remove("model_type")))
        .isInstanceOf(RlsrException.class)
        .hasMessage("dir/config.json: model_type \"\" is not supported (supported: llama, qwen2, qwen3, mistral)");
    assertThatThrownBy(() -> ModelConfig.builder("gemma").vocabSize(64).hiddenSize(32).intermediateSize(48).layers(2)
        .heads(4).kvHeads(2).tied(false).ropeTheta(10000).maxPositions(128).bosId(1).eosId(2).build())
        .isInstanceOf(RlsrException.class)
        .hasMessage("<created config>: model_type \"gemma\" is not supported (supported: llama, qwen2, qwen3, mistral)");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "llama|hidden_act|\"gelu\"|hidden_act \"gelu\" is not supported (only silu)",
      "qwen2|hidden_act|\"gelu\"|hidden_act \"gelu\" is not supported (only silu)",
      "llama|rope_scaling|{\"rope_type\": \"yarn\", \"factor\": 4.0}|rope_scaling.rope_type \"yarn\" is not supported (supported: default, linear, llama3)",
      "qwen2|rope_scaling|{\"type\": \"linear\"}|rope_scaling is not supported (remove it or use a model without rotary scaling)",
      "llama|use_sliding_window|true|use_sliding_window=true (sliding-window attention) is not supported",
      "qwen2|use_sliding_window|true|use_sliding_window=true (sliding-window attention) is not supported",
      "llama|attention_bias|true|attention_bias=true is not supported for llama (its o_proj bias is not implemented)",
      "qwen2|attention_bias|\"yes\"|\"attention_bias\" must be true or false, got \"yes\"",
      "llama|mlp_bias|true|mlp_bias=true is not supported",
      "qwen2|mlp_bias|true|mlp_bias=true is not supported",
  })
  void familyKeysAreRefusedNamingFileAndKey(String type, String key, String value, String message) {
    ModelConfig base = type.equals("llama") ? TinyCheckpoints.llama() : TinyCheckpoints.qwen2();
    assertThatThrownBy(() -> edited(base, c -> {
      try {
        c.set(key, Json.MAPPER.readTree(value));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    })).isInstanceOf(RlsrException.class).hasMessage("dir/config.json: " + message);
  }

  @Test
  void qwen2HasQkvBiasesWhateverAttentionBiasSays() {
    ModelConfig q = edited(TinyCheckpoints.qwen2(), c -> c.put("attention_bias", false));
    assertThat(q.family()).isInstanceOf(Qwen2Family.class);
    assertThat(q.architecture()).isEqualTo(new Architecture(true, false, RopeScaling.NONE));
    assertThat(ModelWeights.layout(q)).containsKeys("model.layers.0.self_attn.q_proj.bias",
        "model.layers.1.self_attn.k_proj.bias", "model.layers.1.self_attn.v_proj.bias");
    assertThat(ModelWeights.layout(q).get("model.layers.0.self_attn.k_proj.bias"))
        .containsExactly((long) q.numKvHeads() * q.headDim());
    assertThat(ModelWeights.layout(q).keySet()).noneMatch(n -> n.contains("o_proj.bias") || n.contains("mlp") && n.endsWith(".bias"));

    ModelConfig l = TinyCheckpoints.llama();
    assertThat(l.family()).isInstanceOf(LlamaFamily.class);
    assertThat(l.architecture()).isEqualTo(Architecture.LLAMA);
    assertThat(ModelWeights.layout(l).keySet()).noneMatch(n -> n.endsWith(".bias"));
    // the same tensors apart from the biases
    assertThat(ModelWeights.layout(q).keySet().stream().filter(n -> !n.endsWith(".bias")).toList())
        .containsExactlyElementsOf(ModelWeights.layout(TinyCheckpoints.llama(TinyCheckpoints.qwen2().tieWordEmbeddings())).keySet());
  }

  @Test
  void createdConfigsCarryTheFamilyKeysAndReadBackEqual() {
    ModelConfig l = TinyCheckpoints.llama();
    assertThat(l.raw().get("architectures").get(0).asText()).isEqualTo("LlamaForCausalLM");
    assertThat(l.raw().get("attention_bias").asBoolean(true)).isFalse();
    assertThat(l.raw().get("mlp_bias").asBoolean(true)).isFalse();
    ModelConfig q = TinyCheckpoints.qwen2();
    assertThat(q.raw().get("architectures").get(0).asText()).isEqualTo("Qwen2ForCausalLM");
    assertThat(q.raw().get("use_sliding_window").asBoolean(true)).isFalse();
    assertThat(ModelConfig.fromJson(q.raw(), "x")).isEqualTo(q);
  }

  @Test
  void qwen3HasQkNormTensorsOfHeadDimAndNoBiases() {
    ModelConfig q = ModelConfig.builder("qwen3").vocabSize(64).hiddenSize(32).intermediateSize(48).layers(2).heads(4)
        .kvHeads(2).headDim(12).tied(true).build();
    assertThat(q.family()).isInstanceOf(Qwen3Family.class);
    assertThat(q.architecture()).isEqualTo(new Architecture(false, true, RopeScaling.NONE));
    assertThat(q.headDim()).isEqualTo(12);
    var layout = ModelWeights.layout(q);
    assertThat(layout.get("model.layers.1.self_attn.q_norm.weight")).containsExactly(12L);
    assertThat(layout.get("model.layers.1.self_attn.k_norm.weight")).containsExactly(12L);
    assertThat(layout.get("model.layers.0.self_attn.q_proj.weight")).containsExactly(48L, 32L);
    assertThat(layout.keySet()).noneMatch(n -> n.endsWith(".bias"));
    assertThat(q.raw().get("architectures").get(0).asText()).isEqualTo("Qwen3ForCausalLM");
    // every component is implemented by every builder now
    q.architecture().requireImplemented("anything");
  }

  @Test
  void rotaryInverseFrequenciesAreTheHuggingFaceOnesInFloat32() {
    ModelConfig c = ModelConfig.builder("llama").vocabSize(64).hiddenSize(32).intermediateSize(48).layers(2).heads(4)
        .kvHeads(2).headDim(12).tied(false).ropeTheta(500000.0).maxPositions(128).bosId(1).eosId(2).build();
    float[] f = Rope.inverseFrequencies(c);
    assertThat(f).hasSize(6);
    for (int i = 0; i < f.length; i++) {
      // torch: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), every op in float32
      float exponent = (float) (2 * i) / 12f;
      assertThat(f[i]).isEqualTo(1f / (float) Math.pow(500000f, exponent));
      assertThat((double) f[i]).isCloseTo(1.0 / Math.pow(500000.0, (2.0 * i) / 12), org.assertj.core.data.Percentage.withPercentage(1e-4));
    }
    assertThat((double) Attention.MASKED_SCORE).isEqualTo(-1e9);
  }
}
