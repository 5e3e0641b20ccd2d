// LoRA through the CLI as a user runs it: sft --lora-r writes a PEFT adapter directory (names, shapes, config fields)
// that `rlsr logprobs` loads on its base, matching a model merged here by PEFT's rule from the files alone; resume
// with an adapter (dropout included) ends at the uninterrupted run's adapter; bad flags and adapter dirs are refused
// naming the flag or the file and key.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import dev.rlsr.train.MetricsLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraCommandsTest {
  @TempDir Path tmp;

  private Path data(int n) throws Exception {
    Path f = tmp.resolve("data-" + n + ".jsonl");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append("{\"prompt\": \"Name color ").append(i % 4).append("\", \"response\": \"")
          .append(List.of("red", "green", "blue", "gold").get(i % 4)).append(" it is\"}\n");
    }
    Files.writeString(f, sb.toString());
    return f;
  }

  private static Cli.Run run(List<String> common, String... more) {
    List<String> all = new java.util.ArrayList<>(common);
    all.addAll(List.of(more));
    return Cli.run(all.toArray(String[]::new));
  }

  @Test
  void sftWritesAPeftAdapterThatLogprobsLoadsMergedByPeftsRule() throws Exception {
    Path base = TinyCheckpoints.write(tmp.resolve("base"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 11);
    Path out = tmp.resolve("sft");
    var r = Cli.run("sft", "--model", base.toString(), "--data", data(16).toString(), "--out", out.toString(),
        "--max-steps", "12", "--batch-size", "4", "--learning-rate", "1e-2", "--max-seq-len", "64", "--threads", "1",
        "--lora-r", "4", "--lora-alpha", "12", "--lora-target-modules", "q_proj,v_proj,down_proj");
    assertThat(r.code()).as(r.err()).isZero();
    List<JsonNode> rows = MetricsLog.read(out.resolve("metrics.jsonl"));
    assertThat(rows.get(11).get("loss").asDouble()).isLessThan(rows.get(0).get("loss").asDouble());

    // PEFT's layout: adapter_config.json, adapter_model.safetensors with PEFT names, the tokenizer; no whole model
    JsonNode cfg = Json.MAPPER.readTree(out.resolve("adapter_config.json").toFile());
    assertThat(cfg.get("peft_type").asText()).isEqualTo("LORA");
    assertThat(cfg.get("task_type").asText()).isEqualTo("CAUSAL_LM");
    assertThat(cfg.get("bias").asText()).isEqualTo("none");
    assertThat(cfg.get("r").asInt()).isEqualTo(4);
    assertThat(cfg.get("lora_alpha").asDouble()).isEqualTo(12);
    assertThat(cfg.get("lora_dropout").asDouble()).isEqualTo(0);
    assertThat(cfg.get("target_modules").toString()).isEqualTo("[\"q_proj\",\"v_proj\",\"down_proj\"]");
    assertThat(cfg.get("base_model_name_or_path").asText()).isEqualTo(base.toAbsolutePath().normalize().toString());
    assertThat(out.resolve("tokenizer.json")).exists();
    assertThat(out.resolve("model.safetensors")).doesNotExist();
    assertThat(out.resolve("config.json")).doesNotExist();
    JsonNode runConfig = Json.MAPPER.readTree(out.resolve("run_config.json").toFile());
    assertThat(runConfig.get("lora_r").asInt()).isEqualTo(4);
    assertThat(runConfig.get("lora_target_modules").asText()).isEqualTo("q_proj,v_proj,down_proj");
    Path ckpt;
    try (Stream<Path> s = Files.list(out.resolve(Checkpoints.DIR))) {
      ckpt = s.filter(Files::isDirectory).findFirst().orElseThrow();
    }
    assertThat(ckpt.resolve("adapter_config.json")).exists();
    assertThat(Safetensors.read(ckpt.resolve(Checkpoints.OPTIMIZER)).keySet())
        .allMatch(k -> k.contains(".lora_A.") || k.contains(".lora_B."));

    LinkedHashMap<String, FloatTensor> adapter = Safetensors.read(out.resolve("adapter_model.safetensors"));
    var c = TinyCheckpoints.qwen2();
    assertThat(adapter).hasSize(2 * 3 * c.numLayers());
    assertThat(adapter.get("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight").shape())
        .containsExactly(4, c.hiddenSize());
    assertThat(adapter.get("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight").shape())
        .containsExactly(c.numKvHeads() * c.headDim(), 4);
    assertThat(adapter.get("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight").shape())
        .containsExactly(4, c.intermediateSize());

    // merged by PEFT's rule W + alpha/r B A from the files alone, written as a plain model directory
    Map<String, FloatTensor> merged = new LinkedHashMap<>(Safetensors.read(base.resolve("model.safetensors")));
    double scale = cfg.get("lora_alpha").asDouble() / cfg.get("r").asInt();
    boolean changed = false;
    for (String name : adapter.keySet()) {
      if (!name.endsWith(".lora_A.weight")) {
        continue;
      }
      String prefix = name.substring("base_model.model.".length(), name.length() - ".lora_A.weight".length());
      FloatTensor a = adapter.get(name);
      FloatTensor b = adapter.get(name.replace(".lora_A.", ".lora_B."));
      FloatTensor w = merged.get(prefix + ".weight").copy();
      int out0 = (int) b.shape()[0];
      int rank = (int) b.shape()[1];
      int in = (int) a.shape()[1];
      for (int o = 0; o < out0; o++) {
        for (int i = 0; i < in; i++) {
          double s = 0;
          for (int k = 0; k < rank; k++) {
            s += b.data()[o * rank + k] * a.data()[k * in + i];
          }
          w.data()[o * in + i] += (float) (scale * s);
          changed |= s != 0;
        }
      }
      merged.put(prefix + ".weight", w);
    }
    assertThat(changed).as("the adapter moved").isTrue();
    Path mergedDir = tmp.resolve("merged");
    Files.createDirectories(mergedDir);
    try (Stream<Path> s = Files.list(base)) {
      for (Path f : s.toList()) {
        if (!f.getFileName().toString().equals("model.safetensors")) {
          Files.copy(f, mergedDir.resolve(f.getFileName()));
        }
      }
    }
    Safetensors.write(mergedDir.resolve("model.safetensors"), merged, Safetensors.DType.F32, Map.of("format", "pt"));

    float[] viaAdapter = logprobs(out);
    float[] viaMerged = logprobs(mergedDir);
    float[] ofBase = logprobs(base);
    float maxDiff = 0;
    float fromBase = 0;
    for (int i = 0; i < viaAdapter.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(viaAdapter[i] - viaMerged[i]));
      fromBase = Math.max(fromBase, Math.abs(viaAdapter[i] - ofBase[i]));
    }
    assertThat(maxDiff).isLessThan(1e-4f);
    assertThat(fromBase).as("the adapter changes the model").isGreaterThan(1e-3f);

    // export of the adapter directory writes the merged model
    Path exported = tmp.resolve("exported");
    var e = Cli.run("export", "--model", out.toString(), "--out", exported.toString(), "--format", "safetensors");
    assertThat(e.code()).as(e.err()).isZero();
    Map<String, FloatTensor> got = Safetensors.read(exported.resolve("model.safetensors"));
    for (var t : merged.entrySet()) {
      float[] x = t.getValue().data();
      float[] y = got.get(t.getKey()).data();
      for (int i = 0; i < x.length; i++) {
        assertThat(Math.abs(x[i] - y[i])).as(t.getKey()).isLessThan(1e-5f);
      }
    }
  }

  @Test
  void trainTakesTheLoraFlagsFromItsConfigFileAndRefusesThemNamingTheFlag() throws Exception {
    Path yaml = tmp.resolve("run.yaml");
    Files.writeString(yaml, "lora-alpha: 8\n");
    var r = Cli.run("train", "--config", yaml.toString(), "--model", tmp.resolve("m").toString(), "--data",
        data(4).toString(), "--out", tmp.resolve("out").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("--lora-alpha needs an adapter").contains("--lora-r");
    Files.writeString(yaml, "lora_r: 4\nlora-target-modules: q_proj,router\n");
    r = Cli.run("train", "--config", yaml.toString(), "--model", tmp.resolve("m").toString(), "--data",
        data(4).toString(), "--out", tmp.resolve("out").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("--lora-target-modules").contains("router");
    assertThat(tmp.resolve("out")).doesNotExist();
  }

  private static float[] logprobs(Path model) throws Exception {
    var r = Cli.run("logprobs", "--model", model.toString(), "--text", "Name color 1 green it is", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode lps = Json.MAPPER.readTree(r.out()).get("logprobs");
    float[] out = new float[lps.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) lps.get(i).asDouble();
    }
    return out;
  }

  @Test
  void resumeWithAnAdapterEndsAtTheUninterruptedRunsAdapter() throws Exception {
    Path base = TinyCheckpoints.write(tmp.resolve("base"), TinyCheckpoints.llama(), Safetensors.DType.F32, 12);
    List<String> common = List.of("sft", "--model", base.toString(), "--data", data(12).toString(), "--batch-size", "3",
        "--grad-accum", "2", "--learning-rate", "1e-2", "--threads", "1", "--max-seq-len", "64", "--max-steps", "6",
        "--save-every", "2", "--lora-r", "2", "--lora-dropout", "0.2");
    Path full = tmp.resolve("full");
    assertThat(run(common, "--out", full.toString()).code()).isZero();
    Path split = tmp.resolve("split");
    assertThat(run(common, "--out", split.toString(), "--stop-after", "4").code()).isZero();
    var resumed = run(common, "--out", split.toString(), "--resume");
    assertThat(resumed.code()).as(resumed.err()).isZero();
    assertThat(resumed.err()).contains("resumed from");
    Map<String, FloatTensor> a = Safetensors.read(full.resolve("adapter_model.safetensors"));
    Map<String, FloatTensor> b = Safetensors.read(split.resolve("adapter_model.safetensors"));
    assertThat(b.keySet()).isEqualTo(a.keySet());
    for (String k : a.keySet()) {
      float[] x = a.get(k).data();
      float[] y = b.get(k).data();
      for (int i = 0; i < x.length; i++) {
        assertThat(Math.abs(x[i] - y[i])).as(k).isLessThanOrEqualTo(1e-5f);
      }
    }
    // another adapter on resume is a change of the run
    List<String> rank3 = new java.util.ArrayList<>(common);
    rank3.set(rank3.indexOf("--lora-r") + 1, "3");
    var other = run(rank3, "--out", split.toString(), "--resume");
    assertThat(other.code()).isNotZero();
    assertThat(other.err()).contains("lora_r");
  }

  @Test
  void badFlagsAndAdapterDirectoriesAreRefusedNamingTheFlagOrTheFileAndKey() throws Exception {
    Path base = TinyCheckpoints.write(tmp.resolve("base"), TinyCheckpoints.llama(), Safetensors.DType.F32, 13);
    List<String> common = List.of("sft", "--model", base.toString(), "--data", data(4).toString(), "--out",
        tmp.resolve("o").toString(), "--max-steps", "1", "--threads", "1", "--max-seq-len", "64");
    Map<List<String>, String> bad = new LinkedHashMap<>();
    bad.put(List.of("--lora-r", "-1"), "--lora-r");
    bad.put(List.of("--lora-alpha", "8"), "--lora-alpha");
    bad.put(List.of("--lora-dropout", "0.1"), "--lora-dropout");
    bad.put(List.of("--lora-r", "4", "--lora-target-modules", "q_proj,lm_head"), "--lora-target-modules");
    bad.put(List.of("--lora-r", "4", "--lora-dropout", "1"), "--lora-dropout");
    bad.put(List.of("--lora-r", "4", "--lora-alpha", "0"), "--lora-alpha");
    for (var e : bad.entrySet()) {
      var r = run(common, e.getKey().toArray(String[]::new));
      assertThat(r.code()).as(e.getKey().toString()).isNotZero();
      assertThat(r.err()).as(e.getKey().toString()).contains(e.getValue());
    }
    // an adapter directory of another PEFT method, or on a base that is not here
    Path ok = tmp.resolve("ok");
    var made = run(List.of("sft", "--model", base.toString(), "--data", data(4).toString(), "--out", ok.toString(),
        "--max-steps", "1", "--threads", "1", "--max-seq-len", "64", "--lora-r", "2"));
    assertThat(made.code()).as(made.err()).isZero();
    ObjectNode cfg = (ObjectNode) Json.MAPPER.readTree(ok.resolve("adapter_config.json").toFile());
    cfg.put("peft_type", "IA3");
    Json.PRETTY.writeValue(ok.resolve("adapter_config.json").toFile(), cfg);
    var r = Cli.run("logprobs", "--model", ok.toString(), "--text", "hi", "--threads", "1");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("adapter_config.json").contains("peft_type").contains("IA3");
    cfg.put("peft_type", "LORA");
    cfg.put("base_model_name_or_path", tmp.resolve("gone").toString());
    Json.PRETTY.writeValue(ok.resolve("adapter_config.json").toFile(), cfg);
    r = Cli.run("logprobs", "--model", ok.toString(), "--text", "hi", "--threads", "1");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("adapter_config.json").contains("base_model_name_or_path");
  }
}
