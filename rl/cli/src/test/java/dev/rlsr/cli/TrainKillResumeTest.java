// `rlsr train` killed with SIGKILL mid-run and continued with --resume ends with the weights of an uninterrupted
// run (1e-5); also --config files with flags overriding them.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import dev.rlsr.train.MetricsLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainKillResumeTest {
  @TempDir Path tmp;

  private List<String> args(Path model, Path data, Path out) {
    return List.of("train", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
        "--iterations", "6", "--prompts-per-iteration", "2", "--num-generations", "4", "--max-completion-length", "6",
        "--learning-rate", "5e-3", "--beta", "0.02", "--save-every", "2", "--threads", "1", "--seed", "3");
  }

  private Path data() throws Exception {
    Path f = tmp.resolve("d.jsonl");
    Files.writeString(f, "{\"prompt\":\"color?\",\"response\":\"red\"}\n{\"prompt\":\"sky?\",\"response\":\"blue sky\"}\n"
        + "{\"prompt\":\"grass?\",\"response\":\"green grass\"}\n");
    return f;
  }

  @Test
  void sigkillThenResumeEqualsUninterruptedRun() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.F32, 9);
    Path data = data();
    Path full = tmp.resolve("full");
    var r = Cli.run(args(model, data, full).toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();

    Path killed = tmp.resolve("killed");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(args(model, data, killed));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
    Path latest = killed.resolve("checkpoints").resolve(Checkpoints.LATEST);
    long deadline = System.currentTimeMillis() + 120_000;
    while (!Files.exists(latest) && p.isAlive() && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    assertThat(p.isAlive()).as("child still running when its first checkpoint appeared: "
        + Files.readString(tmp.resolve("child.log"))).isTrue();
    p.destroyForcibly(); // SIGKILL on Linux
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(137);
    assertThat(killed.resolve("model.safetensors")).as("killed before the end").doesNotExist();

    List<String> resume = new ArrayList<>(args(model, data, killed));
    resume.add("--resume");
    var rr = Cli.run(resume.toArray(String[]::new));
    assertThat(rr.code()).as(rr.err()).isZero();
    assertThat(rr.err()).contains("resumed from");
    assertThat(rr.err()).as("the killed run's lock file is recognised as stale")
        .contains("taking over the lock of rlsr pid " + p.pid());
    assertThat(killed.resolve(".rlsr.lock")).doesNotExist();
    Map<String, FloatTensor> a = Safetensors.read(full.resolve("model.safetensors"));
    Map<String, FloatTensor> b = Safetensors.read(killed.resolve("model.safetensors"));
    float worst = 0;
    for (String k : a.keySet()) {
      for (int i = 0; i < a.get(k).data().length; i++) {
        worst = Math.max(worst, Math.abs(a.get(k).data()[i] - b.get(k).data()[i]));
      }
    }
    assertThat(worst).as("max |w_full - w_resumed|").isLessThanOrEqualTo(1e-5f);
    assertThat(MetricsLog.read(killed.resolve("metrics.jsonl"))).hasSize(6);

    // resuming with another learning rate is refused, listing the difference; the same options say it is done
    byte[] weights = Files.readAllBytes(killed.resolve("model.safetensors"));
    List<String> changed = new ArrayList<>(resume);
    changed.set(changed.indexOf("--learning-rate") + 1, "1e-2");
    var refused = Cli.run(changed.toArray(String[]::new));
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err()).contains("--resume: these options differ from the checkpoint's run config")
        .contains("learning_rate 0.005 -> 0.01").contains("--resume-override");
    var done = Cli.run(resume.toArray(String[]::new));
    assertThat(done.code()).as(done.err()).isZero();
    assertThat(done.out()).contains("rlsr: already complete at iteration 6").doesNotContain("NaN");
    assertThat(Files.readAllBytes(killed.resolve("model.safetensors"))).isEqualTo(weights);
  }

  @Test
  void sftThenRlsrInOneCommand() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 9);
    Path out = tmp.resolve("sft-rlsr");
    var r = Cli.run("train", "--model", model.toString(), "--data", data().toString(), "--out", out.toString(),
        "--sft-steps", "3", "--sft-learning-rate", "1e-3", "--sft-batch-size", "2", "--iterations", "2",
        "--prompts-per-iteration", "2", "--num-generations", "4", "--max-completion-length", "4", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("SFT phase: 3 steps");
    assertThat(MetricsLog.read(out.resolve("sft/metrics.jsonl"))).hasSize(3);
    assertThat(MetricsLog.read(out.resolve("metrics.jsonl"))).hasSize(2);
    var rc = Json.MAPPER.readTree(out.resolve("run_config.json").toFile());
    assertThat(rc.get("model").asText()).isEqualTo(out.resolve("sft").toString()); // RLSR started from the SFT model
    assertThat(out.resolve("model.safetensors")).exists();
  }

  @Test
  void anEmbedderThatCannotLoadFailsBeforeAnythingIsWritten() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.F32, 9);
    Path out = tmp.resolve("o");
    var r = Cli.run("train", "--model", model.toString(), "--data", data().toString(), "--out", out.toString(),
        "--embedder", tmp.resolve("no-such-encoder").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("--embedder").contains("no-such-encoder");
    assertThat(out).doesNotExist();
    Path empty = tmp.resolve("empty.jsonl");
    Files.writeString(empty, "\n");
    var e = Cli.run("train", "--model", model.toString(), "--data", empty.toString(), "--out", out.toString());
    assertThat(e.code()).isEqualTo(1);
    assertThat(e.err()).contains("empty.jsonl").contains("empty");
  }

  @Test
  void configFileSetsOptionsAndFlagsOverrideIt() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 9);
    Path cfg = tmp.resolve("run.yaml");
    Files.writeString(cfg, "model: " + model + "\ndata: " + data() + "\niterations: 2\nnum_generations: 4\n"
        + "prompts-per-iteration: 2\nmax_completion_length: 4\nbeta: 0.0\nlearning_rate: 1e-3\nthreads: 1\n");
    Path out = tmp.resolve("o");
    var r = Cli.run("train", "--config", cfg.toString(), "--out", out.toString(), "--iterations", "1");
    assertThat(r.code()).as(r.err()).isZero();
    var rc = Json.MAPPER.readTree(out.resolve("run_config.json").toFile());
    assertThat(rc.get("iterations").asInt()).isEqualTo(1); // flag wins
    assertThat(rc.get("num_generations").asInt()).isEqualTo(4); // from the file
    assertThat(rc.get("beta").asDouble()).isZero();

    Files.writeString(cfg, "num_generaions: 4\n");
    var bad = Cli.run("train", "--config", cfg.toString(), "--out", out.toString());
    assertThat(bad.code()).isNotZero();
    assertThat(bad.err()).contains("run.yaml").contains("num_generaions");

    var g1 = Cli.run("train", "--model", model.toString(), "--data", data().toString(), "--out", tmp.resolve("x").toString(),
        "--num-generations", "1");
    assertThat(g1.code()).isNotZero();
    assertThat(g1.err()).contains("--num-generations must be at least 2");
  }
}
