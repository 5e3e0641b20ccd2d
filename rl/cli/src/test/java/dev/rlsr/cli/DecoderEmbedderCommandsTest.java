// rlsr embed, reward and train with --embedder naming a decoder embedder directory (Qwen3-Embedding-shaped, random
// weights): the ONNX graph rlsr builds serves every command.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.testing.DecoderEmbedderFixture;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import dev.rlsr.train.MetricsLog;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecoderEmbedderCommandsTest {
  @TempDir Path tmp;

  @Test
  void embedAndRewardTakeADecoderDirectory() throws Exception {
    DecoderEmbedderFixture.Model m = DecoderEmbedderFixture.write(tmp.resolve("emb"), false, 3);
    String dir = m.dir().toString();
    var r = Cli.run("embed", "--embedder", dir, "--embedder-prompt", "query", "--text", "i like turtles");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode e = Json.MAPPER.readTree(r.out()).get("embeddings");
    assertThat(e).hasSize(1);
    assertThat(e.get(0)).hasSize(DecoderEmbedderFixture.HIDDEN);
    try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(m.dir().resolve("tokenizer.json"))) {
      float[] naive = DecoderEmbedderFixture.embed(m.weights(),
          tok.encode(DecoderEmbedderFixture.QUERY_PROMPT + "i like turtles").getIds());
      double dot = 0;
      for (int j = 0; j < naive.length; j++) {
        dot += naive[j] * e.get(0).get(j).doubleValue();
      }
      assertThat(dot).as("cosine with the naive forward pass").isGreaterThan(1 - 1e-5);
    }
    var rw = Cli.run("reward", "--embedder", dir, "--reference", "Paris is the capital of France.",
        "--candidate", "Paris is the capital of France.", "--candidate", "i like turtles", "--candidate", "");
    assertThat(rw.code()).as(rw.err()).isZero();
    JsonNode rewards = Json.MAPPER.readTree(rw.out()).get("rewards");
    assertThat(rewards.get(0).floatValue()).isGreaterThan(0.9999f);
    assertThat(rewards.get(1).floatValue()).isLessThan(0.9999f);
    assertThat(rewards.get(2).floatValue()).isZero();
  }

  @Test
  void benchEmbedTimesADecoderEmbedderAlone() throws Exception {
    DecoderEmbedderFixture.Model m = DecoderEmbedderFixture.write(tmp.resolve("emb"), false, 5);
    Path data = tmp.resolve("t.jsonl");
    Files.writeString(data, "{\"response\":\"i like turtles\"}\n{\"response\":\"the cat sat on the mat\"}\n");
    Path json = tmp.resolve("bench.json");
    var r = Cli.run("bench", "embed", "--embedder", m.dir().toString(), "--data", data.toString(), "--count", "2",
        "--rounds", "1", "--threads", "1", "--json", json.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("rlsr SentenceEmbedder (" + m.dir() + ")").doesNotContain("langchain4j");
    JsonNode result = Json.MAPPER.readTree(json.toFile());
    assertThat(result.get("embedder").asText()).isEqualTo(m.dir().toString());
    assertThat(result.get("texts").asInt()).isEqualTo(2);
    assertThat(result.get("rlsr_texts_per_s").asDouble()).isPositive();
    assertThat(result.has("langchain4j_texts_per_s")).isFalse();
  }

  @Test
  void trainRunsRlsrWithADecoderEmbedder() throws Exception {
    DecoderEmbedderFixture.Model m = DecoderEmbedderFixture.write(tmp.resolve("emb"), true, 4);
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 9);
    Path data = tmp.resolve("d.jsonl");
    Files.writeString(data, "{\"prompt\":\"color?\",\"response\":\"red\"}\n{\"prompt\":\"sky?\",\"response\":\"blue sky\"}\n");
    Path out = tmp.resolve("out");
    var r = Cli.run("train", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
        "--embedder", m.dir().toString(), "--iterations", "1", "--prompts-per-iteration", "2",
        "--num-generations", "4", "--max-completion-length", "4", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(MetricsLog.read(out.resolve("metrics.jsonl"))).hasSize(1);
    assertThat(Json.MAPPER.readTree(out.resolve("run_config.json").toFile()).get("embedder").asText())
        .isEqualTo(m.dir().toString());
    assertThat(out.resolve("model.safetensors")).exists();
  }
}
