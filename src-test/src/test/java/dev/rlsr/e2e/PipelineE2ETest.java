// The user's path through the CLI across every module on a tiny model: sft -> train (RLSR) -> eval on real
// instruction data -> compare. Uses ../shared/data when present and skips cleanly when it is not.
package dev.rlsr.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.cli.Main;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.testing.SharedData;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineE2ETest {
  @TempDir Path tmp;

  record Run(int code, String out, String err) {}

  static Run rlsr(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return new Run(cl.execute(args), out.toString(), err.toString());
  }


  @Test
  void sftThenRlsrThenEvalAndCompareOnAlpaca() throws Exception {
    Path sftData = SharedData.find("tiny/sft.jsonl");
    Path evalData = SharedData.find("alpaca-5k/eval.jsonl");
    assumeTrue(sftData != null && evalData != null, "../shared/data not present");
    Path base = TinyCheckpoints.write(tmp.resolve("base"), TinyCheckpoints.qwen2(), Safetensors.DType.BF16, 21);

    Run sft = rlsr("sft", "--model", base.toString(), "--data", sftData.toString(), "--out", tmp.resolve("sft").toString(),
        "--max-steps", "4", "--batch-size", "4", "--lr", "1e-3", "--max-seq-len", "128", "--threads", "2");
    assertThat(sft.code()).as(sft.err()).isZero();

    Run train = rlsr("train", "--model", tmp.resolve("sft").toString(), "--data", sftData.toString(),
        "--out", tmp.resolve("sft-rlsr").toString(), "--iterations", "2", "--prompts-per-iteration", "2",
        "--num-generations", "4", "--max-completion-length", "8", "--max-prompt-length", "64", "--lr", "1e-3",
        "--threads", "2", "--num-iterations", "2", "--loss-type", "dr_grpo", "--scale-rewards", "batch",
        "--mask-truncated-completions", "--top-k", "20", "--top-p", "0.9", "--epsilon-high", "0.28");
    assertThat(train.code()).as(train.err()).isZero();
    var rc = Json.MAPPER.readTree(tmp.resolve("sft-rlsr/run_config.json").toFile());
    assertThat(rc.get("loss_type").asText()).isEqualTo("dr_grpo");
    assertThat(rc.get("num_iterations").asInt()).isEqualTo(2);
    assertThat(rc.get("mask_truncated_completions").asBoolean()).isTrue();
    var rows = Files.readAllLines(tmp.resolve("sft-rlsr/metrics.jsonl"));
    assertThat(rows).hasSize(2);
    for (String line : rows) {
      assertThat(Double.isFinite(Json.MAPPER.readTree(line).get("loss").asDouble())).isTrue();
    }
    assertThat(tmp.resolve("sft-rlsr/model.safetensors")).exists();

    for (String m : new String[] {"base", "sft-rlsr"}) {
      Path model = m.equals("base") ? base : tmp.resolve(m);
      Run ev = rlsr("eval", "--model", model.toString(), "--data", evalData.toString(), "--out",
          tmp.resolve(m + ".jsonl").toString(), "--limit", "12", "--max-prompt-length", "64", "--max-new-tokens", "8",
          "--threads", "2");
      assertThat(ev.code()).as(ev.err()).isZero();
      JsonNode s = Json.MAPPER.readTree(ev.out());
      assertThat(s.get("n").asInt()).isEqualTo(12);
      for (String k : new String[] {"reward_mean", "judge_reward_mean", "rouge_l_mean"}) {
        assertThat(s.get(k).asDouble()).as(k).isBetween(-1.0, 1.0);
      }
      JsonNode row = Json.MAPPER.readTree(Files.readAllLines(tmp.resolve(m + ".jsonl")).get(0));
      for (String k : new String[] {"prompt", "reference", "response", "reward", "judge_reward", "rouge_l"}) {
        assertThat(row.has(k)).as(k).isTrue();
      }
    }
    Run cmp = rlsr("compare", tmp.resolve("sft-rlsr.jsonl").toString(), tmp.resolve("base.jsonl").toString());
    assertThat(cmp.code()).as(cmp.err()).isZero();
    JsonNode c = Json.MAPPER.readTree(cmp.out());
    assertThat(c.get("n").asInt()).isEqualTo(12);
    assertThat(c.get("win_rate").asDouble()).isBetween(0.0, 1.0);
    assertThat(c.get("wins").asInt() + c.get("losses").asInt() + c.get("ties").asInt()).isEqualTo(12);
  }
}
