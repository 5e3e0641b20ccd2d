// LoraConfig: PEFT's module names and defaults, the adapter layout at a real shape, and refusals that name the flag.
package dev.rlsr.policy.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rlsr.policy.util.RlsrException;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoraConfigTest {
  static ModelConfig llama(int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate) {
    return ModelConfig.builder("llama").vocabSize(vocab).hiddenSize(hidden).intermediateSize(intermediate)
        .layers(layers).heads(heads).kvHeads(kvHeads).build();
  }

  @Test
  void allLinearAdaptsEveryProjectionWithPeftShapesAndNames() {
    ModelConfig c = llama(1000, 64, 2, 4, 2, 160);
    LoraConfig l = LoraConfig.of(8);
    assertThat(l.alpha()).isEqualTo(16);
    assertThat(l.scale()).isEqualTo(2.0);
    var layout = l.layout(c);
    assertThat(layout).hasSize(2 * 7 * 2);
    // q_proj: in 64, out 4 heads x 16; k_proj out 2 kv heads x 16; down_proj in 160
    assertThat(layout.get("model.layers.0.self_attn.q_proj.lora_A.weight")).containsExactly(8, 64);
    assertThat(layout.get("model.layers.0.self_attn.q_proj.lora_B.weight")).containsExactly(64, 8);
    assertThat(layout.get("model.layers.1.self_attn.k_proj.lora_B.weight")).containsExactly(32, 8);
    assertThat(layout.get("model.layers.1.mlp.down_proj.lora_A.weight")).containsExactly(8, 160);
    assertThat(layout.get("model.layers.1.mlp.down_proj.lora_B.weight")).containsExactly(64, 8);
    assertThat(LoraConfig.peftName("model.layers.0.self_attn.q_proj.lora_A.weight"))
        .isEqualTo("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
    assertThat(LoraConfig.fromPeftName("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight"))
        .isEqualTo("model.layers.0.mlp.up_proj.lora_B.weight");
  }

  @Test
  void targetsParseAsPeftNamesAndKeepForwardOrder() {
    assertThat(LoraConfig.parseTargets("all-linear")).isEqualTo(LoraConfig.MODULES);
    assertThat(LoraConfig.parseTargets(" V_proj, q_proj ,v_proj")).containsExactly("v_proj", "q_proj");
    LoraConfig l = new LoraConfig(4, 8, 0.05, LoraConfig.parseTargets("v_proj,q_proj"));
    assertThat(l.targetModules()).containsExactly("q_proj", "v_proj");
    assertThat(l.adaptedLayers(llama(100, 32, 1, 2, 2, 64)).keySet())
        .containsExactly("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj");
  }

  @Test
  void badValuesAreRefusedNamingTheFlag() {
    assertThatThrownBy(() -> new LoraConfig(0, 1, 0, LoraConfig.MODULES)).isInstanceOf(RlsrException.class)
        .hasMessageContaining("--lora-r");
    assertThatThrownBy(() -> new LoraConfig(4, -1, 0, LoraConfig.MODULES)).hasMessageContaining("--lora-alpha");
    assertThatThrownBy(() -> new LoraConfig(4, 8, 1.0, LoraConfig.MODULES)).hasMessageContaining("--lora-dropout");
    assertThatThrownBy(() -> new LoraConfig(4, 8, 0, List.of("qkv_proj")))
        .hasMessageContaining("--lora-target-modules").hasMessageContaining("qkv_proj");
    assertThatThrownBy(() -> LoraConfig.fromPeftName("model.layers.0.q.lora_A.weight"))
        .hasMessageContaining("base_model.model.");
  }
}
