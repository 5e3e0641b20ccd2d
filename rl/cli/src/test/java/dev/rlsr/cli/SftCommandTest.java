// `rlsr sft` and `rlsr logprobs` as a user runs them: loss goes down on real data, resume is exact, and bad input
// ends with a non-zero exit and an error naming the file, line, flag or key while earlier checkpoints survive.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.testing.SharedData;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import dev.rlsr.train.MetricsLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftCommandTest {
  @TempDir Path tmp;

  private Path model(String type) {
    return TinyCheckpoints.write(tmp.resolve("base-" + type),
        type.equals("llama") ? TinyCheckpoints.llama() : TinyCheckpoints.qwen2(), Safetensors.DType.F32, 11);
  }

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

  @Test
  void sftOnTinyDatasetLowersLossAndChangesEveryTensor() throws Exception {
    Path data = SharedData.find("tiny/sft.jsonl");
    assumeTrue(data != null, "../shared/data/tiny/sft.jsonl not present");
    Path base = model("qwen2");
    Path out = tmp.resolve("sft");
    var r = Cli.run("sft", "--model", base.toString(), "--data", data.toString(), "--out", out.toString(),
        "--max-steps", "24", "--batch-size", "4", "--learning-rate", "5e-3", "--max-seq-len", "96", "--threads", "2");
    assertThat(r.code()).as(r.err()).isZero();
    List<com.fasterxml.jackson.databind.JsonNode> rows = MetricsLog.read(out.resolve("metrics.jsonl"));
    assertThat(rows).hasSize(24);
    double first = (rows.get(0).get("loss").asDouble() + rows.get(1).get("loss").asDouble()) / 2;
    double last = (rows.get(22).get("loss").asDouble() + rows.get(23).get("loss").asDouble()) / 2;
    assertThat(last).isLessThan(first * 0.8);
    assertThat(rows.get(0).has("grad_norm")).isTrue();
    assertThat(rows.get(0).get("tokens_per_second").asDouble()).isPositive();
    // the final model is a HF checkpoint in OUT, every tensor moved
    Map<String, FloatTensor> before = Safetensors.read(base.resolve("model.safetensors"));
    Map<String, FloatTensor> after = Safetensors.read(out.resolve("model.safetensors"));
    assertThat(after.keySet()).isEqualTo(before.keySet());
    for (String k : before.keySet()) {
      assertThat(java.util.Arrays.equals(before.get(k).data(), after.get(k).data())).as(k).isFalse();
    }
    assertThat(out.resolve("config.json")).exists();
    assertThat(out.resolve("tokenizer.json")).exists();
    assertThat(out.resolve("generation_config.json")).exists();
    assertThat(Json.MAPPER.readTree(out.resolve("run_config.json").toFile()).get("learning_rate").asDouble()).isEqualTo(5e-3);
  }

  @Test
  void resumeGivesTheWeightsOfAnUninterruptedRun() throws Exception {
    Path base = model("llama");
    Path data = data(12);
    String[] common = {"--model", base.toString(), "--data", data.toString(), "--batch-size", "3", "--grad-accum", "2",
        "--learning-rate", "1e-3", "--warmup-steps", "2", "--threads", "1", "--max-seq-len", "64"};
    Path full = tmp.resolve("full");
    assertThat(run(common, "--out", full.toString(), "--max-steps", "6").code()).isZero();
    Path split = tmp.resolve("split");
    // first part: stop after 4 of 6 steps (checkpoint every 2); then resume to 6
    assertThat(run(common, "--out", split.toString(), "--max-steps", "6", "--save-every", "2", "--stop-after", "4").code()).isZero();
    var again = run(common, "--out", split.toString(), "--max-steps", "6", "--save-every", "2");
    assertThat(again.code()).as("without --resume an existing run is refused").isEqualTo(1);
    assertThat(again.err()).contains("--resume");
    var resumed = run(common, "--out", split.toString(), "--max-steps", "6", "--save-every", "2", "--resume");
    assertThat(resumed.code()).as(resumed.err()).isZero();
    assertThat(resumed.err()).contains("resumed from");
    Map<String, FloatTensor> a = Safetensors.read(full.resolve("model.safetensors"));
    Map<String, FloatTensor> b = Safetensors.read(split.resolve("model.safetensors"));
    for (String k : a.keySet()) {
      float[] x = a.get(k).data();
      float[] y = b.get(k).data();
      for (int i = 0; i < x.length; i++) {
        assertThat(Math.abs(x[i] - y[i])).as(k).isLessThanOrEqualTo(1e-5f);
      }
    }
    assertThat(MetricsLog.read(split.resolve("metrics.jsonl"))).hasSize(6);
  }

  private static Cli.Run run(String[] common, String... more) {
    String[] all = new String[common.length + more.length + 1];
    all[0] = "sft";
    System.arraycopy(common, 0, all, 1, common.length);
    System.arraycopy(more, 0, all, 1 + common.length, more.length);
    return Cli.run(all);
  }

  @Test
  void badInputEndsWithAClearErrorAndKeepsTheLastCheckpoint() throws Exception {
    Path base = model("llama");
    Path out = tmp.resolve("out");
    Path good = data(6);
    assertThat(Cli.run("sft", "--model", base.toString(), "--data", good.toString(), "--out", out.toString(),
        "--max-steps", "2", "--batch-size", "3", "--threads", "1").code()).isZero();
    Path ckpt = new Checkpoints(out).latest().orElseThrow();
    byte[] savedWeights = Files.readAllBytes(out.resolve("model.safetensors"));

    // malformed JSONL line 3
    Path bad = tmp.resolve("bad.jsonl");
    Files.writeString(bad, "{\"prompt\":\"a\",\"response\":\"b\"}\n{\"prompt\":\"c\",\"response\":\"d\"}\n{\"prompt\": oops}\n",
        StandardCharsets.UTF_8);
    var r = Cli.run("sft", "--model", base.toString(), "--data", bad.toString(), "--out", out.toString(), "--resume");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("bad.jsonl:3");

    // unknown flag
    r = Cli.run("sft", "--model", base.toString(), "--data", good.toString(), "--out", out.toString(), "--learning-rat", "1");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--learning-rat");

    // missing config.json
    Path noConfig = Files.createDirectories(tmp.resolve("noconfig"));
    Files.copy(base.resolve("tokenizer.json"), noConfig.resolve("tokenizer.json"));
    r = Cli.run("sft", "--model", noConfig.toString(), "--data", good.toString(), "--out", out.toString(), "--resume");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("config.json");

    // truncated safetensors
    Path trunc = TinyCheckpoints.write(tmp.resolve("trunc"), TinyCheckpoints.llama(), Safetensors.DType.F32, 3);
    byte[] all = Files.readAllBytes(trunc.resolve("model.safetensors"));
    Files.write(trunc.resolve("model.safetensors"), java.util.Arrays.copyOf(all, all.length - 100));
    r = Cli.run("sft", "--model", trunc.toString(), "--data", good.toString(), "--out", out.toString(), "--resume");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("model.safetensors").contains("truncated");

    // unsupported model_type
    Path other = TinyCheckpoints.write(tmp.resolve("other"), TinyCheckpoints.llama(), Safetensors.DType.F32, 3);
    String cfg = Files.readString(other.resolve("config.json")).replace("\"llama\"", "\"gemma\"");
    Files.writeString(other.resolve("config.json"), cfg);
    r = Cli.run("sft", "--model", other.toString(), "--data", good.toString(), "--out", out.toString(), "--resume");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("config.json").contains("model_type").contains("gemma");

    // nothing written earlier was lost
    assertThat(new Checkpoints(out).latest()).contains(ckpt);
    assertThat(Files.readAllBytes(out.resolve("model.safetensors"))).isEqualTo(savedWeights);
  }

  @Test
  void logprobsPrintsIdsAndNextTokenLogprobs() throws Exception {
    Path base = model("qwen2");
    var r = Cli.run("logprobs", "--model", base.toString(), "--text", "hello world", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    var o = Json.MAPPER.readTree(r.out());
    assertThat(o.get("ids")).hasSize(11); // byte-level tokenizer: one id per byte
    assertThat(o.get("logprobs")).hasSize(10);
    for (var lp : o.get("logprobs")) {
      assertThat(lp.asDouble()).isNegative();
    }
  }
}
