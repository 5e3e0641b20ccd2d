// `rlsr bench sft` and `rlsr bench train` as a user runs them on small models: the JSON contracts, the built-in
// shapes, micro-batching, and the FLOP count behind MFU checked against the real Qwen2.5-0.5B parameter count.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.RandomWeights;
import dev.rlsr.policy.util.Json;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCommandsTest {
  @TempDir Path tmp;

  @Test
  void builtInShapesAreThePublishedConfigs() {
    ModelConfig q = BenchModels.shape("qwen2.5-0.5b");
    long params = ModelWeights.layout(q).values().stream().mapToLong(FloatTensor::numel).sum();
    assertThat(params).isEqualTo(494_032_768L); // Qwen2.5-0.5B-Instruct, tied embeddings
    // matmul weights: everything but norms and the q/k/v biases (the tied embedding counts once, as the head)
    long normsAndBiases = 24L * (2 * 896 + 896 + 128 + 128) + 896;
    assertThat(ModelFlops.matmulParams(q)).isEqualTo(params - normsAndBiases);
    assertThat(BenchModels.shape("qwen3-0.6b").numLayers()).isEqualTo(28);
    assertThat(BenchModels.shape("llama3.2-1b").vocabSize()).isEqualTo(128256);
    var err = Cli.run("bench", "sft", "--shape", "qwen9", "--json", tmp.resolve("x.json").toString());
    assertThat(err.code()).isNotZero();
    assertThat(err.err()).contains("--shape qwen9: unknown shape (shapes: small, qwen2.5-0.5b, qwen3-0.6b, llama3.2-1b)");
  }

  @Test
  void randomWeightsAreTheSameWhateverTheReadOrder() {
    RandomWeights w = new RandomWeights(BenchModels.small(), 5);
    List<String> names = List.copyOf(w.shapes().keySet());
    float[] last = w.read(names.get(names.size() - 1)).data();
    float[] first = w.read(names.get(0)).data();
    assertThat(new RandomWeights(BenchModels.small(), 5).read(names.get(0)).data()).isEqualTo(first);
    assertThat(w.read(names.get(names.size() - 1)).data()).isEqualTo(last);
    assertThat(new RandomWeights(BenchModels.small(), 6).read(names.get(0)).data()).isNotEqualTo(first);
  }

  @Test
  void benchSftWithMicroBatchesWritesTheJsonContract() throws Exception {
    Path json = tmp.resolve("sft.json");
    var r = Cli.run("bench", "sft", "--batch", "4", "--micro-batch", "2", "--seq", "16", "--steps", "1", "--warmup",
        "0", "--threads", "1", "--json", json.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode o = Json.MAPPER.readTree(json.toFile());
    assertThat(o.get("micro_batch").asInt()).isEqualTo(2);
    assertThat(o.get("params").asLong()).isEqualTo(5_401_856L);
    assertThat(o.get("tokens_per_second").asDouble()).isPositive();
    assertThat(o.get("seconds").get("accumulate").asDouble()).isPositive();
    assertThat(o.get("seconds").get("apply").asDouble()).isPositive();
    assertThat(o.get("matmul_peak_gflops").asDouble()).isPositive();
    assertThat(o.get("mfu").asDouble()).isPositive();
    assertThat(o.get("peak_rss_bytes").asLong()).isGreaterThan(100L << 20);
    var bad = Cli.run("bench", "sft", "--batch", "3", "--micro-batch", "2", "--json", json.toString());
    assertThat(bad.code()).isNotZero();
    assertThat(bad.err()).contains("--batch 3 is not a multiple of --micro-batch 2");
  }

  @Test
  void benchTrainTimesEveryPhaseOfAnIteration() throws Exception {
    Path json = tmp.resolve("train.json");
    var r = Cli.run("bench", "train", "--shape", "small", "--prompts", "2", "--generations", "2", "--new-tokens", "4",
        "--prompt-words", "6", "--iterations", "2", "--warmup", "1", "--threads", "1", "--work-dir",
        tmp.resolve("work").toString(), "--json", json.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode o = Json.MAPPER.readTree(json.toFile());
    assertThat(o.get("iterations")).hasSize(2);
    for (JsonNode row : o.get("iterations")) {
      for (String k : List.of("seconds_rollout", "seconds_reward", "seconds_logprobs", "seconds_update",
          "seconds_sync", "mfu_update", "mfu_logprobs", "sync_share")) {
        assertThat(row.get(k).asDouble()).as(k).isPositive();
      }
      assertThat(row.get("completion_tokens").asInt()).isEqualTo(2 * 2 * 4); // random weights never stop early
      assertThat(row.get("update_tokens").asLong()).isLessThanOrEqualTo(row.get("update_padded_tokens").asLong());
    }
    assertThat(o.get("timed").get("seconds_iteration").asDouble()).isPositive();
    assertThat(o.get("peak_rss_bytes").asLong()).isPositive();
    assertThat(tmp.resolve("work")).doesNotExist(); // the work directory is removed afterwards
    assertThat(o.get("lora_r").asInt()).isZero();

    // the same with a LoRA adapter: its sync moves the adapter only
    Path loraJson = tmp.resolve("train-lora.json");
    var l = Cli.run("bench", "train", "--shape", "small", "--prompts", "2", "--generations", "2", "--new-tokens", "4",
        "--prompt-words", "6", "--iterations", "2", "--warmup", "1", "--threads", "1", "--lora-r", "4", "--json",
        loraJson.toString());
    assertThat(l.code()).as(l.err()).isZero();
    JsonNode lo = Json.MAPPER.readTree(loraJson.toFile());
    assertThat(lo.get("lora_r").asInt()).isEqualTo(4);
    assertThat(lo.get("timed").get("seconds_sync").asDouble()).isPositive();
    assertThat(l.out()).contains("LoRA r 4");
  }

  @Test
  void benchDtypesComparesEveryDtypeWithFp32() throws Exception {
    Path json = tmp.resolve("dtypes.json");
    var r = Cli.run("bench", "dtypes", "--shape", "small", "--prompts", "4", "--batch", "2", "--new-tokens", "4",
        "--repeats", "1", "--threads", "1", "--json", json.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode d = Json.MAPPER.readTree(json.toFile()).get("dtypes");
    assertThat(d.fieldNames()).toIterable().containsExactly("fp32", "fp16", "q8", "q4");
    assertThat(d.get("fp32").get("greedy_identical_fraction").asDouble()).isEqualTo(1.0);
    assertThat(d.get("fp32").get("logprob_drift_max").asDouble()).isZero();
    for (String k : List.of("fp16", "q8", "q4")) {
      assertThat(d.get(k).get("bytes").asLong()).as(k).isLessThan(d.get("fp32").get("bytes").asLong());
      assertThat(d.get(k).get("tokens_per_second").asDouble()).as(k).isPositive();
      assertThat(d.get(k).get("logprob_drift_mean").asDouble()).as(k).isPositive();
    }
    assertThat(d.get("q4").get("bytes").asLong()).isLessThan(d.get("q8").get("bytes").asLong());
    var bad = Cli.run("bench", "dtypes", "--dtypes", "int2", "--json", json.toString());
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err()).contains("--dtypes \"int2\" is not known");
  }
}
