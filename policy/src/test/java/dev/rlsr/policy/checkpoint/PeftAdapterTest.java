// Adapter directories in PEFT's layout: what rlsr writes (names, shapes, adapter_config.json fields), loading one as a
// model (merged weights by PEFT's rule, computed here from the files alone), a directory as PEFT writes it (relative
// base, the ".default" infix, extra keys), and the refusals of bad directories, each naming the file and key.
package dev.rlsr.policy.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftAdapterTest {
  static final LoraConfig LORA = new LoraConfig(3, 5, 0.05, List.of("q_proj", "v_proj", "up_proj"));

  @TempDir
  Path tmp;

  static Map<String, FloatTensor> randomAdapter(ModelConfig c, LoraConfig l, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    l.layout(c).forEach((name, shape) -> {
      FloatTensor t = FloatTensor.zeros(shape);
      for (int i = 0; i < t.data().length; i++) {
        t.data()[i] = (float) rng.nextGaussian();
      }
      out.put(name, t);
    });
    return out;
  }

  /** A base model directory and an rlsr-written adapter on it. */
  private Path writeAdapter(Path base, LoraConfig l, Map<String, FloatTensor> adapter) throws IOException {
    Path dir = tmp.resolve("adapter");
    try (Tokenizer tok = Tokenizer.load(base)) {
      PeftAdapter.write(dir, ModelConfig.read(base.resolve(HfModel.CONFIG)), l, base, TensorSource.of(adapter), tok,
          Map.of());
    }
    return dir;
  }

  @Test
  void rlsrWritesPeftsLayoutAndLoadsItMerged() throws IOException {
    ModelConfig c = TinyCheckpoints.qwen2();
    Path base = TinyCheckpoints.write(tmp.resolve("base"), c, Safetensors.DType.F32, 1);
    Map<String, FloatTensor> adapter = randomAdapter(c, LORA, 2);
    Path dir = writeAdapter(base, LORA, adapter);

    ObjectNode cfg = (ObjectNode) Json.MAPPER.readTree(dir.resolve(PeftAdapter.CONFIG).toFile());
    assertThat(cfg.get("peft_type").asText()).isEqualTo("LORA");
    assertThat(cfg.get("task_type").asText()).isEqualTo("CAUSAL_LM");
    assertThat(cfg.get("bias").asText()).isEqualTo("none");
    assertThat(cfg.get("r").asInt()).isEqualTo(3);
    assertThat(cfg.get("lora_alpha").asDouble()).isEqualTo(5);
    assertThat(cfg.get("lora_dropout").asDouble()).isEqualTo(0.05);
    assertThat(cfg.get("target_modules").isArray()).isTrue();
    assertThat(cfg.get("target_modules").toString()).isEqualTo("[\"q_proj\",\"v_proj\",\"up_proj\"]");
    assertThat(Path.of(cfg.get("base_model_name_or_path").asText())).isAbsolute()
        .isEqualTo(base.toAbsolutePath().normalize());
    assertThat(dir.resolve("tokenizer.json")).exists();
    assertThat(dir.resolve(HfModel.CONFIG)).doesNotExist();

    LinkedHashMap<String, FloatTensor> file = Safetensors.read(dir.resolve(PeftAdapter.WEIGHTS));
    assertThat(file).hasSize(2 * 3 * c.numLayers());
    FloatTensor a = file.get("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight");
    FloatTensor b = file.get("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight");
    assertThat(a.shape()).containsExactly(3, c.hiddenSize());
    assertThat(b.shape()).containsExactly(c.numHeads() * c.headDim(), 3);
    assertThat(file.get("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight").shape())
        .containsExactly(c.intermediateSize(), 3);

    // loading the directory as a model gives W + alpha/r B A, computed here from the two directories' files alone
    LinkedHashMap<String, FloatTensor> baseW = Safetensors.readModelDir(base);
    try (HfModel m = HfModel.load(dir)) {
      assertThat(m.adapter()).isNotNull();
      assertThat(m.config().numLayers()).isEqualTo(c.numLayers());
      for (String name : m.tensors().shapes().keySet()) {
        FloatTensor got = m.tensors().read(name);
        FloatTensor want = baseW.get(name).copy();
        String prefix = name.substring(0, name.length() - ".weight".length());
        FloatTensor fa = file.get(LoraConfig.peftName(LoraConfig.aName(prefix)));
        if (fa != null) {
          FloatTensor fb = file.get(LoraConfig.peftName(LoraConfig.bName(prefix)));
          addScaledProduct(want, fb, fa, 5.0 / 3);
        }
        assertThat(maxDiff(got, want)).as(name).isLessThan(1e-5f);
        if (fa != null) {
          assertThat(maxDiff(got, baseW.get(name))).as(name + " is changed").isGreaterThan(1e-2f);
        }
      }
    }
  }

  static void addScaledProduct(FloatTensor w, FloatTensor b, FloatTensor a, double scale) {
    int out = (int) b.shape()[0];
    int r = (int) b.shape()[1];
    int in = (int) a.shape()[1];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        double s = 0;
        for (int k = 0; k < r; k++) {
          s += b.data()[o * r + k] * a.data()[k * in + i];
        }
        w.data()[o * in + i] += (float) (scale * s);
      }
    }
  }

  static float maxDiff(FloatTensor a, FloatTensor b) {
    float m = 0;
    for (int i = 0; i < a.data().length; i++) {
      m = Math.max(m, Math.abs(a.data()[i] - b.data()[i]));
    }
    return m;
  }

  @Test
  void aDirectoryAsPeftWritesItLoads() throws IOException {
    ModelConfig c = TinyCheckpoints.llama();
    Path base = TinyCheckpoints.write(tmp.resolve("models/base"), c, Safetensors.DType.F32, 3);
    LoraConfig l = new LoraConfig(2, 16, 0, List.of("k_proj", "o_proj"));
    Map<String, FloatTensor> adapter = randomAdapter(c, l, 4);
    Path dir = tmp.resolve("models/peft-out");
    Files.createDirectories(dir);
    LinkedHashMap<String, FloatTensor> peft = new LinkedHashMap<>();
    adapter.forEach((k, v) -> peft.put(LoraConfig.peftName(k).replace(".weight", ".default.weight"), v));
    Safetensors.write(dir.resolve(PeftAdapter.WEIGHTS), peft, Safetensors.DType.BF16, Map.of("format", "pt"));
    Files.writeString(dir.resolve(PeftAdapter.CONFIG), """
        {"alpha_pattern": {}, "auto_mapping": null, "base_model_name_or_path": "../base", "bias": "none",
         "fan_in_fan_out": false, "inference_mode": true, "init_lora_weights": true, "layers_pattern": null,
         "layers_to_transform": null, "lora_alpha": 16, "lora_dropout": 0.1, "modules_to_save": null,
         "peft_type": "LORA", "r": 2, "rank_pattern": {}, "revision": null, "target_modules": ["o_proj", "k_proj"],
         "task_type": "CAUSAL_LM", "use_dora": false, "use_rslora": false}
        """);
    try (HfModel m = HfModel.load(dir)) {
      assertThat(m.adapter().lora()).isEqualTo(new LoraConfig(2, 16, 0.1, List.of("k_proj", "o_proj")));
      assertThat(m.adapter().baseModel()).isEqualTo(base.toAbsolutePath().normalize());
      assertThat(m.tokenizer().modelDir().toAbsolutePath().normalize()).isEqualTo(base.toAbsolutePath().normalize());
      String name = "model.layers.0.self_attn.o_proj.weight";
      FloatTensor want = Safetensors.readModelDir(base).get(name).copy();
      LinkedHashMap<String, FloatTensor> back = Safetensors.read(dir.resolve(PeftAdapter.WEIGHTS)); // bf16 as stored
      addScaledProduct(want, back.get("base_model.model.model.layers.0.self_attn.o_proj.lora_B.default.weight"),
          back.get("base_model.model.model.layers.0.self_attn.o_proj.lora_A.default.weight"), 8);
      assertThat(maxDiff(m.tensors().read(name), want)).isLessThan(1e-4f);
    }
  }

  private Path bad(Consumer<ObjectNode> edit) throws IOException {
    ModelConfig c = TinyCheckpoints.qwen2();
    Path base = tmp.resolve("base");
    if (!Files.exists(base)) {
      TinyCheckpoints.write(base, c, Safetensors.DType.F32, 1);
    }
    Path dir = tmp.resolve("adapter");
    if (!Files.exists(dir)) {
      writeAdapter(base, LORA, randomAdapter(c, LORA, 2));
    }
    ObjectNode cfg = (ObjectNode) Json.MAPPER.readTree(dir.resolve(PeftAdapter.CONFIG).toFile());
    edit.accept(cfg);
    Json.PRETTY.writeValue(dir.resolve(PeftAdapter.CONFIG).toFile(), cfg);
    return dir;
  }

  private void refused(Consumer<ObjectNode> edit, String... parts) throws IOException {
    Path dir = bad(edit);
    var t = assertThatThrownBy(() -> HfModel.load(dir).close()).isInstanceOf(RlsrException.class);
    for (String p : parts) {
      t.hasMessageContaining(p);
    }
    bad(n -> { // restore for the next case
      n.put("peft_type", "LORA");
      n.put("bias", "none");
      n.put("r", 3);
      n.putArray("target_modules").add("q_proj").add("v_proj").add("up_proj");
      n.put("use_rslora", false);
      n.put("base_model_name_or_path", tmp.resolve("base").toString());
    });
  }

  @Test
  void badAdapterDirectoriesAreRefusedNamingFileAndKey() throws IOException {
    refused(n -> n.put("peft_type", "PREFIX_TUNING"), PeftAdapter.CONFIG, "peft_type", "PREFIX_TUNING");
    refused(n -> n.put("bias", "all"), PeftAdapter.CONFIG, "bias", "all");
    refused(n -> n.putArray("target_modules").add("q_proj").add("lm_head"), PeftAdapter.CONFIG, "target_modules",
        "lm_head");
    refused(n -> n.put("use_rslora", true), PeftAdapter.CONFIG, "use_rslora");
    refused(n -> n.put("r", 4), PeftAdapter.WEIGHTS, "shape", "lora_A");
    refused(n -> n.putArray("target_modules").add("q_proj").add("v_proj").add("up_proj").add("down_proj"),
        PeftAdapter.WEIGHTS, "missing tensor", "down_proj.lora_A");
    refused(n -> n.putArray("target_modules").add("q_proj").add("v_proj"), PeftAdapter.WEIGHTS, "up_proj",
        "not a LoRA tensor");
    refused(n -> n.remove("r"), PeftAdapter.CONFIG, "missing key r");
    refused(n -> n.put("base_model_name_or_path", "Qwen/Qwen2.5-0.5B"), PeftAdapter.CONFIG, "base_model_name_or_path",
        "Qwen/Qwen2.5-0.5B");
    Path dir = bad(n -> {});
    Files.delete(dir.resolve(PeftAdapter.WEIGHTS));
    assertThatThrownBy(() -> HfModel.load(dir).close()).isInstanceOf(RlsrException.class)
        .hasMessageContaining(PeftAdapter.WEIGHTS).hasMessageContaining("not found");
  }
}
