// The real families: rope_scaling llama3/linear frequencies against transformers' formula written out here, the
// refusals (file and key named), and the verbatim published config.json of four real models resolving as expected.
package dev.rlsr.policy.model.family;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.Rope;
import dev.rlsr.policy.testing.FamilyConfigs;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.policy.util.StrictJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RealFamiliesTest {
  private static ObjectNode json(String text) {
    try {
      return (ObjectNode) StrictJson.JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** transformers' _compute_llama3_parameters, written out in double; band[i] = 0 high, 1 medium, 2 low. */
  private static double[] llama3Reference(double base, int dim, double factor, double low, double high, int old,
      int[] band) {
    double lowWavelen = old / low;
    double highWavelen = old / high;
    double[] out = new double[dim / 2];
    for (int i = 0; i < out.length; i++) {
      double inv = 1.0 / Math.pow(base, (2.0 * i) / dim);
      double wavelen = 2 * Math.PI / inv;
      double llama = wavelen > lowWavelen ? inv / factor : inv;
      double smooth = (old / wavelen - low) / (high - low);
      double smoothed = (1 - smooth) * llama / factor + smooth * llama;
      boolean medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
      out[i] = medium ? smoothed : llama;
      band[i] = wavelen < highWavelen ? 0 : medium ? 1 : 2;
    }
    return out;
  }

  private static void assertFloatClose(float[] actual, double[] expected) {
    assertThat(actual).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(Math.abs(actual[i] - expected[i]) / expected[i]).as("frequency %d", i).isLessThan(1e-6);
    }
  }

  @Test
  void llama3FrequenciesAreTransformersFormulaInAllThreeBands() {
    ModelConfig c = FamilyConfigs.llama3Scaled();
    assertThat(c.architecture().ropeScaling()).isEqualTo(new RopeScaling.Llama3(8.0, 1.0, 4.0, 64));
    int[] band = new int[8];
    double[] expected = llama3Reference(10000.0, 16, 8.0, 1.0, 4.0, 64, band);
    assertThat(band).contains(0, 1, 2);
    assertThat(band).containsExactly(0, 1, 1, 2, 2, 2, 2, 2);
    assertFloatClose(Rope.inverseFrequencies(c), expected);
  }

  @Test
  void llama32FrequenciesAreTransformersFormula() {
    ModelConfig c = ModelConfig.fromJson(json(LLAMA_3_2_1B), "Llama-3.2-1B/config.json");
    int[] band = new int[32];
    double[] expected = llama3Reference(500000.0, 64, 32.0, 1.0, 4.0, 8192, band);
    assertThat(band).contains(0, 1, 2);
    assertFloatClose(Rope.inverseFrequencies(c), expected);
  }

  @Test
  void linearFrequenciesAreDividedByFactor() {
    ModelConfig c = FamilyConfigs.llamaLinear();
    assertThat(c.architecture().ropeScaling()).isEqualTo(new RopeScaling.Linear(4.0));
    double[] expected = new double[c.headDim() / 2];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = 1.0 / Math.pow(10000.0, (2.0 * i) / c.headDim()) / 4.0;
    }
    assertFloatClose(Rope.inverseFrequencies(c), expected);
  }

  @Test
  void ropeTypeDefaultIsNoScaling() {
    ObjectNode c = FamilyConfigs.llama3Scaled().toJson();
    c.set("rope_scaling", json("{\"rope_type\": \"default\"}"));
    assertThat(ModelConfig.fromJson(c, "x").architecture()).isEqualTo(Architecture.LLAMA);
    c.putNull("rope_scaling");
    assertThat(ModelConfig.fromJson(c, "x").architecture()).isEqualTo(Architecture.LLAMA);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "llama|rope_scaling|{\"rope_type\": \"yarn\", \"factor\": 4.0}|rope_scaling.rope_type \"yarn\" is not supported (supported: default, linear, llama3)",
      "llama|rope_scaling|{\"type\": \"dynamic\", \"factor\": 2.0}|rope_scaling.type \"dynamic\" is not supported (supported: default, linear, llama3)",
      "llama|rope_scaling|{\"factor\": 2.0}|rope_scaling has neither rope_type nor type",
      "llama|rope_scaling|4|\"rope_scaling\" must be an object or null, got 4",
      "llama|rope_scaling|{\"rope_type\": \"linear\"}|rope_scaling: missing key \"factor\"",
      "llama|rope_scaling|{\"rope_type\": \"linear\", \"factor\": \"x\"}|rope_scaling: \"factor\" must be a positive number, got \"x\"",
      "llama|rope_scaling|{\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0}|rope_scaling: missing key \"original_max_position_embeddings\"",
      "llama|rope_scaling|{\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 4.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 64}|rope_scaling: high_freq_factor (4.0) must be greater than low_freq_factor (4.0)",
      "qwen3|rope_scaling|{\"rope_type\": \"yarn\", \"factor\": 4.0}|rope_scaling is not supported (remove it or use a model without rotary scaling)",
      "qwen3|attention_bias|true|attention_bias=true is not supported for qwen3 (its q/k/v/o_proj biases are not implemented)",
      "qwen3|use_sliding_window|true|use_sliding_window=true (sliding-window attention) is not supported",
      "qwen3|hidden_act|\"gelu\"|hidden_act \"gelu\" is not supported (only silu)",
      "mistral|sliding_window|511|sliding_window 511 is shorter than max_position_embeddings 512: sliding-window attention is not implemented; set sliding_window to null (plain causal attention) or to at least max_position_embeddings, or lower max_position_embeddings to the window",
      "mistral|sliding_window|\"x\"|\"sliding_window\" must be an integer, got \"x\"",
      "mistral|attention_bias|true|attention_bias=true is not supported for mistral",
      "mistral|rope_scaling|{\"rope_type\": \"linear\", \"factor\": 2.0}|rope_scaling is not supported (remove it or use a model without rotary scaling)",
      "qwen2|use_sliding_window|true|use_sliding_window=true (sliding-window attention) is not supported",
  })
  void refusalsNameFileAndKey(String type, String key, String value, String message) {
    ModelConfig base = switch (type) {
      case "llama" -> FamilyConfigs.llama3Scaled();
      case "qwen3" -> FamilyConfigs.qwen3();
      case "mistral" -> FamilyConfigs.mistral();
      default -> FamilyConfigs.qwen2Long();
    };
    ObjectNode c = base.toJson();
    c.set(key, json("{\"v\": " + value + "}").get("v"));
    assertThatThrownBy(() -> ModelConfig.fromJson(c, "dir/config.json"))
        .isInstanceOf(RlsrException.class).hasMessage("dir/config.json: " + message);
  }

  @Test
  void mistralWithoutSlidingWindowKeyTakesTheTransformersDefault4096() {
    ObjectNode c = FamilyConfigs.mistral().toJson();
    c.remove("sliding_window");
    c.put("max_position_embeddings", 32768);
    assertThatThrownBy(() -> ModelConfig.fromJson(c, "dir/config.json")).isInstanceOf(RlsrException.class)
        .hasMessageStartingWith("dir/config.json: sliding_window 4096 (absent: the transformers default) is shorter than max_position_embeddings 32768");
    c.put("max_position_embeddings", 4096);
    assertThat(ModelConfig.fromJson(c, "x").maxPositions()).isEqualTo(4096);
    c.putNull("sliding_window");
    c.put("max_position_embeddings", 32768);
    assertThat(ModelConfig.fromJson(c, "x").architecture()).isEqualTo(Architecture.LLAMA);
  }

  @Test
  void mistral7Bv01WindowIsRefusedNamingKeyAndValue() {
    ObjectNode c = json(MISTRAL_7B_V03);
    c.put("sliding_window", 4096);
    assertThatThrownBy(() -> ModelConfig.fromJson(c, "config.json")).isInstanceOf(RlsrException.class)
        .hasMessageStartingWith("config.json: sliding_window 4096 is shorter than max_position_embeddings 32768: "
            + "sliding-window attention is not implemented; ");
  }

  @Test
  void qwen2WithADeclaredButUnusedSlidingWindowKeepsWorking() {
    ModelConfig q = ModelConfig.fromJson(json(QWEN2_5_0_5B), "Qwen2.5-0.5B/config.json");
    assertThat(q.raw().get("sliding_window").asInt()).isEqualTo(32768);
    assertThat(q.architecture()).isEqualTo(new Architecture(true, false, RopeScaling.NONE));
    ObjectNode small = json(QWEN2_5_0_5B);
    small.put("sliding_window", 128); // use_sliding_window false: the window is not used, whatever its size
    assertThat(ModelConfig.fromJson(small, "x").family()).isInstanceOf(Qwen2Family.class);
  }

  @Test
  void publishedConfigsResolve() {
    ModelConfig llama = ModelConfig.fromJson(json(LLAMA_3_2_1B), "Llama-3.2-1B/config.json");
    assertThat(llama.family()).isInstanceOf(LlamaFamily.class);
    assertThat(llama.headDim()).isEqualTo(64);
    assertThat(llama.numKvHeads()).isEqualTo(8);
    assertThat(llama.tieWordEmbeddings()).isTrue();
    assertThat(llama.maxPositions()).isEqualTo(131072);
    assertThat(llama.ropeTheta()).isEqualTo(500000.0);
    assertThat(llama.rmsNormEps()).isEqualTo(1e-5);
    assertThat(llama.architecture()).isEqualTo(Architecture.LLAMA.withRopeScaling(new RopeScaling.Llama3(32.0, 1.0, 4.0, 8192)));
    assertThat(llama.bosTokenId()).isEqualTo(128000);
    assertThat(llama.eosTokenIds()).containsExactly(128001);

    ModelConfig qwen3 = ModelConfig.fromJson(json(QWEN3_0_6B), "Qwen3-0.6B/config.json");
    assertThat(qwen3.family()).isInstanceOf(Qwen3Family.class);
    assertThat(qwen3.headDim()).isEqualTo(128).isNotEqualTo(qwen3.hiddenSize() / qwen3.numHeads());
    assertThat(qwen3.numHeads()).isEqualTo(16);
    assertThat(qwen3.numKvHeads()).isEqualTo(8);
    assertThat(qwen3.tieWordEmbeddings()).isTrue();
    assertThat(qwen3.ropeTheta()).isEqualTo(1000000.0);
    assertThat(qwen3.architecture()).isEqualTo(new Architecture(false, true, RopeScaling.NONE));
    assertThat(qwen3.eosTokenIds()).containsExactly(151645);
    assertThat(dev.rlsr.policy.model.ModelWeights.layout(qwen3).get("model.layers.27.self_attn.k_norm.weight"))
        .containsExactly(128L);
    assertThat(dev.rlsr.policy.model.ModelWeights.layout(qwen3).get("model.layers.0.self_attn.q_proj.weight"))
        .containsExactly(2048L, 1024L);

    ModelConfig mistral = ModelConfig.fromJson(json(MISTRAL_7B_V03), "Mistral-7B-v0.3/config.json");
    assertThat(mistral.family()).isInstanceOf(MistralFamily.class);
    assertThat(mistral.headDim()).isEqualTo(128);
    assertThat(mistral.vocabSize()).isEqualTo(32768);
    assertThat(mistral.tieWordEmbeddings()).isFalse();
    assertThat(mistral.architecture()).isEqualTo(Architecture.LLAMA);

    ModelConfig qwen2 = ModelConfig.fromJson(json(QWEN2_5_0_5B), "Qwen2.5-0.5B/config.json");
    assertThat(qwen2.family()).isInstanceOf(Qwen2Family.class);
    assertThat(qwen2.headDim()).isEqualTo(64);
    assertThat(qwen2.numKvHeads()).isEqualTo(2);
    assertThat(qwen2.architecture().qkvBias()).isTrue();
    assertThat(qwen2.architecture().ropeScaling()).isEqualTo(RopeScaling.NONE);
  }

  // ---- the published config.json files, key by key (huggingface.co/<repo>/blob/main/config.json)

  static final String LLAMA_3_2_1B = """
      {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": false,
        "attention_dropout": 0.0,
        "bos_token_id": 128000,
        "eos_token_id": 128001,
        "head_dim": 64,
        "hidden_act": "silu",
        "hidden_size": 2048,
        "initializer_range": 0.02,
        "intermediate_size": 8192,
        "max_position_embeddings": 131072,
        "mlp_bias": false,
        "model_type": "llama",
        "num_attention_heads": 32,
        "num_hidden_layers": 16,
        "num_key_value_heads": 8,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {
          "factor": 32.0,
          "high_freq_factor": 4.0,
          "low_freq_factor": 1.0,
          "original_max_position_embeddings": 8192,
          "rope_type": "llama3"
        },
        "rope_theta": 500000.0,
        "tie_word_embeddings": true,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.45.0.dev0",
        "use_cache": true,
        "vocab_size": 128256
      }
      """;

  static final String QWEN3_0_6B = """
      {
        "architectures": ["Qwen3ForCausalLM"],
        "attention_bias": false,
        "attention_dropout": 0.0,
        "bos_token_id": 151643,
        "eos_token_id": 151645,
        "head_dim": 128,
        "hidden_act": "silu",
        "hidden_size": 1024,
        "initializer_range": 0.02,
        "intermediate_size": 3072,
        "max_position_embeddings": 40960,
        "max_window_layers": 28,
        "model_type": "qwen3",
        "num_attention_heads": 16,
        "num_hidden_layers": 28,
        "num_key_value_heads": 8,
        "rms_norm_eps": 1e-06,
        "rope_scaling": null,
        "rope_theta": 1000000,
        "sliding_window": null,
        "tie_word_embeddings": true,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.51.0",
        "use_cache": true,
        "use_sliding_window": false,
        "vocab_size": 151936
      }
      """;

  static final String MISTRAL_7B_V03 = """
      {
        "architectures": ["MistralForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": 4096,
        "initializer_range": 0.02,
        "intermediate_size": 14336,
        "max_position_embeddings": 32768,
        "model_type": "mistral",
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": 8,
        "rms_norm_eps": 1e-05,
        "rope_theta": 1000000.0,
        "sliding_window": null,
        "tie_word_embeddings": false,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.42.0.dev0",
        "use_cache": true,
        "vocab_size": 32768
      }
      """;

  static final String QWEN2_5_0_5B = """
      {
        "architectures": ["Qwen2ForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 151643,
        "eos_token_id": 151643,
        "hidden_act": "silu",
        "hidden_size": 896,
        "initializer_range": 0.02,
        "intermediate_size": 4864,
        "max_position_embeddings": 32768,
        "max_window_layers": 24,
        "model_type": "qwen2",
        "num_attention_heads": 14,
        "num_hidden_layers": 24,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06,
        "rope_theta": 1000000.0,
        "sliding_window": 32768,
        "tie_word_embeddings": true,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.40.1",
        "use_cache": true,
        "use_mrope": false,
        "use_sliding_window": false,
        "vocab_size": 151936
      }
      """;
}
