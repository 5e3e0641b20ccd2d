// Strict resume and the atomic final model: LATEST must name a complete checkpoint inside OUT/checkpoints, the
// run-config comparison lists what differs, leftovers of a kill are removed, and the final model's config.json
// appears in OUT only after every other file is in place.
package dev.rlsr.policy.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsStrictTest {
  @TempDir Path tmp;

  /** OUT with checkpoints/step-00000002 holding every required file (placeholder contents) and LATEST naming it. */
  private Path run() throws Exception {
    Path out = tmp.resolve("out");
    Path ck = Files.createDirectories(out.resolve("checkpoints/step-00000002"));
    for (String f : Checkpoints.REQUIRED) {
      Files.writeString(ck.resolve(f), f.endsWith(".json") ? "{\"name\": \"" + f + "\"}" : "bytes of " + f);
    }
    Files.writeString(ck.resolve("tokenizer_config.json"), "{}");
    Files.writeString(out.resolve("checkpoints/LATEST"), "step-00000002\n");
    return out;
  }

  @Test
  void latestMustNameACompleteCheckpointInsideCheckpoints() throws Exception {
    Path out = run();
    Checkpoints c = new Checkpoints(out);
    assertThat(c.forRun(true)).contains(out.resolve("checkpoints/step-00000002"));
    assertThatThrownBy(() -> c.forRun(false)).hasMessageContaining("already holds checkpoints").hasMessageContaining("--resume");

    Path latest = out.resolve("checkpoints/LATEST");
    Files.writeString(latest, "../../elsewhere\n");
    assertThatThrownBy(() -> c.forRun(true)).isInstanceOf(RlsrException.class)
        .hasMessageContaining("names \"../../elsewhere\", which is not a checkpoint directory step-N");
    Files.writeString(latest, tmp.resolve("abs").toAbsolutePath() + "\n");
    assertThatThrownBy(() -> c.forRun(true)).hasMessageContaining("which is not a checkpoint directory step-N");
    Path outside = Files.createDirectories(tmp.resolve("outside/step-00000009"));
    for (String f : Checkpoints.REQUIRED) {
      Files.writeString(outside.resolve(f), "{}");
    }
    Files.createSymbolicLink(out.resolve("checkpoints/step-00000009"), outside);
    Files.writeString(latest, "step-00000009\n");
    assertThatThrownBy(() -> c.forRun(true)).hasMessageContaining("outside " + out.resolve("checkpoints"));
    Files.delete(out.resolve("checkpoints/step-00000009"));
    Files.writeString(latest, "step-00000007\n");
    assertThatThrownBy(() -> c.forRun(true)).hasMessageContaining("names step-00000007").hasMessageContaining("does not exist");

    Files.writeString(latest, "step-00000002\n");
    for (String part : List.of(Checkpoints.OPTIMIZER, "tokenizer.json", Checkpoints.RUN_CONFIG, Safetensors.SINGLE_FILE)) {
      Path f = out.resolve("checkpoints/step-00000002").resolve(part);
      Path aside = tmp.resolve("aside");
      Files.move(f, aside);
      assertThatThrownBy(() -> c.forRun(true)).as(part)
          .hasMessageContaining("checkpoint " + out.resolve("checkpoints/step-00000002") + " is incomplete: " + part + " is missing");
      Files.move(aside, f);
    }
    Files.delete(latest);
    assertThatThrownBy(() -> c.forRun(true)).hasMessageContaining("holds step-00000002 but no LATEST");
  }

  @Test
  void runConfigDifferencesAreListedAndFreeKeysIgnored() throws Exception {
    ObjectNode old = Json.MAPPER.createObjectNode();
    old.put("model", "base").put("data", "d.jsonl").put("data_sha256", "0123456789abcdef0123").put("learning_rate", 1e-4)
        .put("seed", 1).put("threads", 2).put("save_total_limit", 2).put("device", "cpu").put("resume", false)
        .put("out", "o").put("stop_after", 4).put("batch_size", 8);
    ObjectNode now = old.deepCopy();
    now.put("model", "./base").put("threads", 1).put("save_total_limit", 0).put("device", "cuda").put("resume", true)
        .put("out", "/elsewhere/o").put("stop_after", 0);
    assertThat(RunConfigCheck.differences(old, now)).isEmpty();
    now.put("learning_rate", 2e-4).put("seed", 2).put("data_sha256", "fedcba9876543210fedc");
    assertThat(RunConfigCheck.differences(old, now))
        .containsExactly("data_sha256 0123456789ab -> fedcba987654", "learning_rate 1e-4 -> 2e-4", "seed 1 -> 2");

    Path out = run();
    Path ck = out.resolve("checkpoints/step-00000002");
    Json.PRETTY.writeValue(ck.resolve(Checkpoints.RUN_CONFIG).toFile(), old);
    assertThatThrownBy(() -> Checkpoints.verifyRunConfig(ck, now, false, null))
        .hasMessageContaining("--resume: these options differ from the checkpoint's run config")
        .hasMessageContaining("learning_rate 1e-4 -> 2e-4, seed 1 -> 2")
        .hasMessageEndingWith("pass --resume-override to continue anyway");
    StringWriter log = new StringWriter();
    assertThat(Checkpoints.verifyRunConfig(ck, now, true, new PrintWriter(log, true))).hasSize(3);
    assertThat(log.toString()).contains("--resume-override: continuing").contains("seed 1 -> 2");
  }

  @Test
  void leftoversOfAKilledRunAreRemoved() throws Exception {
    Path out = run();
    Path tmpCk = Files.createDirectories(out.resolve("checkpoints/.step-00000004.tmp-123456"));
    Files.writeString(tmpCk.resolve("model.safetensors"), "half");
    Files.writeString(out.resolve("checkpoints/.LATEST.tmp"), "step-0000");
    Files.createDirectories(out.resolve(Checkpoints.FINAL_TMP));
    StringWriter log = new StringWriter();
    List<Path> gone = new Checkpoints(out).cleanTemporary(new PrintWriter(log, true));
    assertThat(gone).hasSize(3);
    assertThat(tmpCk).doesNotExist();
    assertThat(out.resolve(Checkpoints.FINAL_TMP)).doesNotExist();
    assertThat(out.resolve("checkpoints/step-00000002")).isDirectory();
    assertThat(log.toString()).contains(".step-00000004.tmp-123456");
  }

  @Test
  void theFinalModelAppearsAllAtOnceWithConfigJsonLast() throws Exception {
    Path out = run();
    Path ck = out.resolve("checkpoints/step-00000002");
    Checkpoints c = new Checkpoints(out);
    List<String> moved = new ArrayList<>();
    FinalModel.publish(out, ck, name -> {
      assertThat(out.resolve(HfModel.CONFIG)).as("config.json before " + name).doesNotExist();
      assertThat(out.resolve(Checkpoints.FINAL_TMP).resolve(name)).as("staged " + name).exists();
      moved.add(name);
    });
    assertThat(moved.get(moved.size() - 1)).isEqualTo(HfModel.CONFIG);
    assertThat(moved).contains(Safetensors.SINGLE_FILE, "tokenizer.json", "tokenizer_config.json", Checkpoints.RUN_CONFIG,
        HfModel.GENERATION_CONFIG).doesNotContain(Checkpoints.OPTIMIZER, Checkpoints.TRAINER_STATE);
    assertThat(out.resolve(Checkpoints.FINAL_TMP)).doesNotExist();
    assertThat(Files.readString(out.resolve(HfModel.CONFIG))).contains("config.json");

    // a publish cut short (a kill, a full disk) leaves no config.json: OUT does not pass for a model
    Files.writeString(ck.resolve(Safetensors.SINGLE_FILE), "new weights");
    assertThatThrownBy(() -> FinalModel.publish(out, ck, name -> {
      if (name.equals("tokenizer.json")) {
        throw new RlsrException("killed");
      }
    })).hasMessage("killed");
    assertThat(out.resolve(HfModel.CONFIG)).doesNotExist();
    c.cleanTemporary(null);
    c.publish(ck); // resuming publishes again
    assertThat(out.resolve(HfModel.CONFIG)).exists();
    assertThat(Files.readString(out.resolve(Safetensors.SINGLE_FILE))).isEqualTo("new weights");
  }
}
