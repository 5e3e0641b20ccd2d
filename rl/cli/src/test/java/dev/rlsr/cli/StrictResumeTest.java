// --resume is strict: an incomplete checkpoint or a LATEST pointing outside OUT/checkpoints is refused naming the
// file, options that change the run are compared with the checkpoint's run config (refused with the list of
// differences unless --resume-override), leftovers of a kill are removed, and a finished run says so.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.train.MetricsLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(300)
class StrictResumeTest {
  @TempDir Path tmp;
  Path base;
  Path data;
  Path out;

  private static Path data(Path f, int n) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append("{\"prompt\": \"Name color ").append(i).append("\", \"response\": \"")
          .append(List.of("red", "green", "blue", "gold").get(i % 4)).append("\"}\n");
    }
    return Files.writeString(f, sb.toString());
  }

  /** sft on base/data into out with 4 steps of 2 examples, checkpoints every 2 steps; {@code more} added or replacing. */
  private Cli.Run sft(String... more) {
    List<String> a = new ArrayList<>(List.of("sft", "--model", base.toString(), "--data", data.toString(), "--out",
        out.toString(), "--batch-size", "2", "--learning-rate", "1e-3", "--seed", "1", "--max-steps", "4",
        "--save-every", "2", "--max-seq-len", "64", "--threads", "1"));
    for (int i = 0; i < more.length; i++) {
      int at = a.indexOf(more[i]);
      boolean valued = i + 1 < more.length && !more[i + 1].startsWith("--");
      if (at >= 0 && valued) {
        a.set(at + 1, more[++i]);
      } else {
        a.add(more[i]);
        if (valued) {
          a.add(more[++i]);
        }
      }
    }
    return Cli.run(a.toArray(String[]::new));
  }

  private static void refused(Cli.Run r, String... parts) {
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    for (String p : parts) {
      assertThat(r.err()).contains(p);
    }
    assertThat(r.err()).doesNotContain("\tat ").doesNotContain("State[").doesNotContain("NaN");
  }

  @BeforeEach
  void halfARun() throws Exception {
    base = TinyCheckpoints.write(tmp.resolve("base"), TinyCheckpoints.llama(), Safetensors.DType.F32, 11);
    data = data(tmp.resolve("d.jsonl"), 8);
    out = tmp.resolve("out");
    var r = sft("--stop-after", "2");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(out.resolve("checkpoints/step-00000002")).isDirectory();
  }

  @Test
  void changedOptionsAreRefusedWithTheirDifferencesUnlessOverridden() throws Exception {
    Map<String, String> before = Trees.snapshot(out);
    refused(sft("--resume", "--learning-rate", "2e-3", "--seed", "2"),
        "error: --resume: these options differ from the checkpoint's run config",
        "learning_rate 0.001 -> 0.002, seed 1 -> 2", "pass --resume-override to continue anyway");
    refused(sft("--resume", "--batch-size", "4", "--max-seq-len", "56"), "batch_size 2 -> 4", "max_seq_len 64 -> 56");
    Files.writeString(data, Files.readString(data).replace("gold", "golden")); // same file, other content
    refused(sft("--resume"), "data_bytes", "data_sha256");
    Path other = data(tmp.resolve("other.jsonl"), 3);
    refused(sft("--resume", "--data", other.toString()), "data " + data + " -> " + other, "data_sha256");
    assertThat(Trees.snapshot(out)).isEqualTo(before);

    // --resume-override continues, printing what differs; a smaller dataset does not surface the internal state
    var r = sft("--resume", "--resume-override", "--data", other.toString(), "--learning-rate", "2e-3");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("--resume-override: continuing although these options differ")
        .contains("learning_rate 0.001 -> 0.002").contains("is past the 3 examples").doesNotContain("State[");
    assertThat(MetricsLog.read(out.resolve("metrics.jsonl"))).hasSize(4);
    assertThat(out.resolve("config.json")).exists();
  }

  @Test
  void incompleteCheckpointsAndBadLatestAreRefused() throws Exception {
    Path ck = out.resolve("checkpoints/step-00000002");
    for (String part : List.of(Checkpoints.OPTIMIZER, Checkpoints.TRAINER_STATE, "tokenizer.json")) {
      Path aside = tmp.resolve("aside");
      Files.move(ck.resolve(part), aside);
      Map<String, String> before = Trees.snapshot(out);
      refused(sft("--resume"), "checkpoint " + ck + " is incomplete: " + part + " is missing");
      assertThat(Trees.snapshot(out)).isEqualTo(before);
      Files.move(aside, ck.resolve(part));
    }
    Path latest = out.resolve("checkpoints/LATEST");
    String good = Files.readString(latest);
    Map<String, String> before = Trees.snapshot(out);
    Files.writeString(latest, "../../base\n");
    refused(sft("--resume"), "names \"../../base\", which is not a checkpoint directory step-N");
    Files.writeString(latest, base.toAbsolutePath() + "\n");
    refused(sft("--resume"), "which is not a checkpoint directory step-N");
    Files.writeString(latest, good);
    assertThat(Trees.snapshot(out)).isEqualTo(before);
  }

  @Test
  void leftoversOfAKillAreRemovedOnResumeAndAFinishedRunSaysSo() throws Exception {
    Path tmpCk = Files.createDirectories(out.resolve("checkpoints/.step-00000004.tmp-123456789"));
    Files.writeString(tmpCk.resolve("model.safetensors"), "cut short");
    Files.createDirectories(out.resolve(Checkpoints.FINAL_TMP));
    var r = sft("--resume", "--threads", "2", "--save-total-limit", "0"); // free to differ
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("removed what an interrupted run left").contains("resumed from");
    assertThat(tmpCk).doesNotExist();
    assertThat(out.resolve(Checkpoints.FINAL_TMP)).doesNotExist();
    assertThat(out.resolve("checkpoints/step-00000002")).as("--save-total-limit 0 keeps all").isDirectory();
    assertThat(MetricsLog.read(out.resolve("metrics.jsonl"))).hasSize(4);
    byte[] weights = Files.readAllBytes(out.resolve("model.safetensors"));

    var again = sft("--resume");
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.out()).contains("sft: already complete at step 4").doesNotContain("NaN");
    assertThat(again.err()).contains("nothing to train").doesNotContain("NaN");
    assertThat(Files.readAllBytes(out.resolve("model.safetensors"))).isEqualTo(weights);
  }
}
