// `rlsr generate`, `rlsr logprobs --backend onnx` and `rlsr bench generate` as a user runs them on tiny checkpoints:
// both backends agree, the JSON contracts hold, and a missing CUDA gives a clear error.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GenerateCommandTest {
  @TempDir Path tmp;

  /** A tiny checkpoint with weights scaled up (peaked distributions, argmaxes clear of float noise). */
  private Path model(String type) throws Exception {
    Path base = TinyCheckpoints.write(tmp.resolve("raw-" + type),
        type.equals("llama") ? TinyCheckpoints.llama() : TinyCheckpoints.qwen2(), Safetensors.DType.F32, 11);
    Path out = tmp.resolve(type);
    try (HfModel m = HfModel.load(base)) {
      ModelWeights w = m.weights().copy();
      w.tensors().forEach((n, t) -> {
        if (!n.endsWith("norm.weight")) {
          for (int i = 0; i < t.data().length; i++) {
            t.data()[i] *= 8;
          }
        }
      });
      HfModel.save(out, w, m.tokenizer(), Map.of());
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "qwen2"})
  void greedyGenerationIsTheSameOnOnnxAndTf(String type) throws Exception {
    Path m = model(type);
    Path data = tmp.resolve("prompts.jsonl");
    Files.writeString(data, "{\"prompt\": \"Name a colour\", \"response\": \"red\"}\n"
        + "{\"prompt\": \"hi\", \"response\": \"\"}\n{\"prompt\": \"Count to three please\", \"response\": \"1 2 3\"}\n");
    String[] common = {"generate", "--model", m.toString(), "--data", data.toString(), "--greedy",
        "--max-new-tokens", "12", "--batch-size", "2", "--threads", "1"};
    var onnx = Cli.run(concat(common, "--backend", "onnx"));
    var tf = Cli.run(concat(common, "--backend", "tf"));
    assertThat(onnx.code()).as(onnx.err()).isZero();
    assertThat(tf.code()).as(tf.err()).isZero();
    assertThat(tf.out()).isEqualTo(onnx.out());
    List<String> lines = onnx.out().lines().toList();
    assertThat(lines).hasSize(3);
    JsonNode first = Json.MAPPER.readTree(lines.get(0));
    assertThat(first.get("prompt").asText()).isEqualTo("Name a colour");
    assertThat(first.get("tokens").isArray()).isTrue();
    assertThat(first.get("completion").isTextual()).isTrue();
    boolean finished = first.get("finished").asBoolean();
    assertThat(first.get("tokens").size()).isBetween(1, 12);
    assertThat(finished || first.get("tokens").size() == 12).isTrue();
  }

  @Test
  void samplingRepeatsForTheSameSeedAndCudaIsRefusedClearly() throws Exception {
    Path m = model("qwen2");
    String[] args = {"generate", "--model", m.toString(), "--prompt", "Tell me", "--temperature", "0.8",
        "--top-p", "0.9", "--top-k", "20", "--max-new-tokens", "10", "--seed", "5", "--threads", "1"};
    var a = Cli.run(args);
    var b = Cli.run(args);
    assertThat(a.code()).as(a.err()).isZero();
    assertThat(b.out()).isEqualTo(a.out());
    assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA), "CUDA present");
    var cuda = Cli.run(concat(args, "--device", "cuda"));
    assertThat(cuda.code()).isEqualTo(1);
    assertThat(cuda.err()).contains("--device cuda").contains("CUDA is not available");
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "qwen2"})
  void logprobsAgreeOnOnnxAndTf(String type) throws Exception {
    Path m = TinyCheckpoints.write(tmp.resolve(type), type.equals("llama") ? TinyCheckpoints.llama()
        : TinyCheckpoints.qwen2(), Safetensors.DType.F32, 3);
    var tf = Cli.run("logprobs", "--model", m.toString(), "--text", "The quick brown fox", "--backend", "tf", "--threads", "1");
    var onnx = Cli.run("logprobs", "--model", m.toString(), "--text", "The quick brown fox", "--backend", "onnx", "--threads", "1");
    assertThat(tf.code()).as(tf.err()).isZero();
    assertThat(onnx.code()).as(onnx.err()).isZero();
    JsonNode a = Json.MAPPER.readTree(tf.out());
    JsonNode b = Json.MAPPER.readTree(onnx.out());
    assertThat(b.get("ids")).isEqualTo(a.get("ids"));
    assertThat(b.get("logprobs").size()).isEqualTo(a.get("ids").size() - 1).isGreaterThan(5);
    for (int i = 0; i < a.get("logprobs").size(); i++) {
      assertThat(b.get("logprobs").get(i).asDouble()).isCloseTo(a.get("logprobs").get(i).asDouble(), within(1e-4));
      assertThat(b.get("logprobs").get(i).asDouble()).isNegative();
    }
  }

  @Test
  void benchGenerateWritesTheJsonContract() throws Exception {
    Path m = model("llama");
    Path json = tmp.resolve("bg.json");
    var r = Cli.run("bench", "generate", "--model", m.toString(), "--batch", "2", "--new-tokens", "4",
        "--prompt-len", "3", "--repeats", "1", "--threads", "1", "--json", json.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode o = Json.MAPPER.readTree(json.toFile());
    assertThat(o.get("batch").asInt()).isEqualTo(2);
    assertThat(o.get("new_tokens").asInt()).isEqualTo(4);
    assertThat(o.get("model").asText()).isEqualTo(m.toString());
    for (String b : List.of("onnx_kv", "onnx_recompute", "tf")) {
      assertThat(o.get("backends").get(b).get("tokens_per_second").asDouble()).isPositive();
      assertThat(o.get("backends").get(b).get("ms_per_token").asDouble()).isPositive();
    }
    assertThat(o.get("ratios").get("onnx_kv_over_tf").asDouble()).isPositive();
    assertThat(o.get("ratios").get("onnx_kv_over_recompute").asDouble()).isPositive();
    assertThat(o.get("weight_sync_ms").asDouble()).isPositive();
    assertThat(o.get("rollout_batch_ms").asDouble()).isPositive();
    assertThat(r.out()).contains("greedy tokens identical across backends: true");
    assertThat(o.get("matmul_peak_gflops").asDouble()).isPositive();
    assertThat(o.get("peak_rss_bytes").asLong()).isPositive();
    assertThat(o.get("backends").get("onnx_kv").get("mfu").asDouble()).isPositive();

    var one = Cli.run("bench", "generate", "--model", m.toString(), "--backends", "onnx_kv", "--batch", "2",
        "--new-tokens", "4", "--prompt-len", "3", "--repeats", "1", "--sync-repeats", "1", "--threads", "1", "--json",
        json.toString());
    assertThat(one.code()).as(one.err()).isZero();
    JsonNode kvOnly = Json.MAPPER.readTree(json.toFile());
    assertThat(kvOnly.get("backends").size()).isEqualTo(1);
    assertThat(kvOnly.get("ratios").size()).isZero();
    var bad = Cli.run("bench", "generate", "--backends", "onnx_kv,vllm", "--json", json.toString());
    assertThat(bad.code()).isNotZero();
    assertThat(bad.err()).contains("--backends: unknown backend 'vllm' (backends: onnx_kv, onnx_recompute, tf)");
  }

  static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
