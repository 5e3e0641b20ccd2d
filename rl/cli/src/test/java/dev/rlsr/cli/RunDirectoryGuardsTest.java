// What sft, train and pretrain refuse before writing anything: --out equal to or inside --model, an --out that is a
// file, an --out another run holds (OUT/.rlsr.lock), lengths beyond the model's max_position_embeddings, negative
// counts and a missing CUDA; each ends at once with one clear line, exit 1, and the files on disk unchanged.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RunLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(300)
class RunDirectoryGuardsTest {
  @TempDir Path tmp;

  private Path model() {
    return TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.F32, 3);
  }

  private Path data() throws Exception {
    Path f = tmp.resolve("d.jsonl");
    Files.writeString(f, "{\"prompt\":\"Name a colour of the sky at noon\",\"response\":\"blue\"}\n"
        + "{\"prompt\":\"grass?\",\"response\":\"green\"}\n{\"prompt\":\"fire?\",\"response\":\"red\"}\n");
    return f;
  }

  private Path corpus() throws Exception {
    return Files.writeString(tmp.resolve("c.txt"), "The red fox lives in the forest.\nThe sky is blue.\n");
  }

  /** The command line of {@code cmd} on model/out, with the rest of {@code more}. */
  private List<String> args(String cmd, Path model, Path out, String... more) throws Exception {
    List<String> a = new ArrayList<>(List.of(cmd, "--model", model.toString(), "--out", out.toString(), "--threads", "1"));
    a.addAll(cmd.equals("pretrain") ? List.of("--corpus", corpus().toString()) : List.of("--data", data().toString()));
    a.addAll(List.of(more));
    return a;
  }

  /** Runs and checks the refusal: exit 1, one "error: " line containing every part, no stack trace, quickly. */
  private static Cli.Run refused(List<String> args, String... parts) {
    long t0 = System.nanoTime();
    var r = Cli.run(args.toArray(String[]::new));
    double s = (System.nanoTime() - t0) / 1e9;
    assertThat(r.code()).as(args + "\n" + r.err()).isEqualTo(1);
    String errorLine = r.err().lines().filter(l -> l.startsWith("error: ")).findFirst().orElse("");
    for (String p : parts) {
      assertThat(errorLine).as(args.toString()).contains(p);
    }
    assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception");
    assertThat(s).as("seconds to refuse " + args).isLessThan(60);
    return r;
  }

  @Test
  void outEqualToOrInsideModelIsRefusedAndTheModelIsUntouched() throws Exception {
    Path model = model();
    Map<String, String> before = Trees.snapshot(model);
    Path link = Files.createSymbolicLink(tmp.resolve("link-to-m"), model);
    for (String cmd : List.of("sft", "train", "pretrain")) {
      refused(args(cmd, model, model), "--out " + model + " is the --model directory " + model);
      refused(args(cmd, model, model.resolve("sub/../.")), "is the --model directory");
      refused(args(cmd, model, link), "--out " + link + " is the --model directory");
      refused(args(cmd, model, model.resolve("run")), "--out " + model.resolve("run") + " lies inside --model " + model);
      refused(args(cmd, model, link.resolve("run")), "lies inside --model");
    }
    Path tok = Files.createDirectories(tmp.resolve("tok"));
    TinyCheckpoints.writeTokenizer(tok, false);
    refused(List.of("pretrain", "--tokenizer", tok.toString(), "--out", tok.toString(), "--corpus", corpus().toString()),
        "--out " + tok + " is the --tokenizer directory");
    assertThat(Trees.snapshot(model)).isEqualTo(before);
    assertThat(model.resolve("run")).doesNotExist();

    // a --model inside OUT/checkpoints, which the run would prune
    Path out = tmp.resolve("o");
    Path inside = TinyCheckpoints.write(out.resolve("checkpoints/step-00000002"), TinyCheckpoints.llama(),
        Safetensors.DType.F32, 3);
    Map<String, String> outBefore = Trees.snapshot(out);
    refused(args("sft", inside, out, "--resume"), "--model " + inside + " lies inside --out " + out + "/checkpoints");
    refused(List.of("export", "--model", model.toString(), "--out", model.toString(), "--force"), "is the --model directory");
    refused(List.of("export", "--model", inside.toString(), "--out", out.toString(), "--force"), "lies inside --out");
    assertThat(Trees.snapshot(out)).isEqualTo(outBefore);
    assertThat(Trees.snapshot(model)).isEqualTo(before);
  }

  @Test
  void anOutThatIsAFileIsRefused() throws Exception {
    Path model = model();
    Path file = Files.writeString(tmp.resolve("F"), "keep me");
    for (String cmd : List.of("sft", "train", "pretrain")) {
      refused(args(cmd, model, file), "error: --out " + file + " is a file, not a directory");
    }
    assertThat(Files.readString(file)).isEqualTo("keep me");
  }

  @Test
  void aSecondRunOnAnOutInUseIsRefusedAtOnce() throws Exception {
    Path model = model();
    Path out = Files.createDirectories(tmp.resolve("busy"));
    Files.writeString(out.resolve("metrics.jsonl"), "{\"step\": 1}\n");
    try (RunLock held = RunLock.acquire(out, "rlsr sft --out " + out, null)) {
      Map<String, String> before = Trees.snapshot(out);
      long pid = ProcessHandle.current().pid();
      for (String cmd : List.of("sft", "train", "pretrain")) {
        List<String> a = cmd.equals("train") ? args(cmd, model, out, "--max-completion-length", "4", "--resume")
            : args(cmd, model, out, "--resume");
        refused(a,
            out + " is in use by rlsr pid " + pid + " (started ", "rlsr sft --out " + out,
            "wait for it or remove " + out.resolve(RunLock.FILE) + " if no such process");
      }
      assertThat(Trees.snapshot(out)).isEqualTo(before);
    }
    assertThat(out.resolve(RunLock.FILE)).doesNotExist();
  }

  @Test
  void aLockLeftByAKilledRunIsTakenOverAndRemovedAtTheEnd() throws Exception {
    Path model = model();
    Path out = Files.createDirectories(tmp.resolve("stale"));
    Files.writeString(out.resolve(RunLock.FILE), "pid=999999999\nhost=gone\nstarted=2020-01-01T00:00:00Z\ncommand=rlsr sft\n");
    var r = Cli.run(args("sft", model, out, "--max-steps", "1", "--batch-size", "2", "--max-seq-len", "64")
        .toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("taking over the lock of rlsr pid 999999999");
    assertThat(out.resolve(RunLock.FILE)).doesNotExist();
    assertThat(out.resolve("config.json")).exists();
  }

  @Test
  void lengthsBeyondTheModelAreRefusedBeforeAnythingIsWritten() throws Exception {
    Path model = model(); // max_position_embeddings 128
    Path out = tmp.resolve("o");
    refused(args("sft", model, out, "--max-seq-len", "100000000"),
        "--max-seq-len 100000000 exceeds the model's max_position_embeddings 128", "config.json");
    refused(args("pretrain", model, out, "--max-seq-len", "129"), "--max-seq-len 129 exceeds", "128");
    refused(List.of("pretrain", "--tokenizer", model.toString(), "--out", out.toString(), "--corpus",
        corpus().toString(), "--max-positions", "64", "--max-seq-len", "100"), "--max-seq-len 100 exceeds --max-positions 64");
    refused(args("train", model, out, "--max-completion-length", "1000000"),
        "--max-completion-length 1000000 exceeds the model's max_position_embeddings 128");
    // the longest prompt (plain template + 31 characters, byte-level) plus 100 new tokens do not fit in 128
    refused(args("train", model, out, "--max-completion-length", "100", "--max-prompt-length", "256"),
        "--max-prompt-length 256 and --max-completion-length 100 exceed the model's max_position_embeddings 128",
        "the longest prompt keeps");
    refused(args("train", model, out, "--max-completion-length", "8", "--sft-steps", "2", "--sft-max-seq-len", "100000"),
        "--sft-max-seq-len 100000 exceeds the model's max_position_embeddings 128");
    assertThat(out).doesNotExist();
    refused(List.of("generate", "--model", model.toString(), "--prompt", "hi", "--max-new-tokens", "1000000"),
        "--max-new-tokens 1000000 exceeds the model's max_position_embeddings 128");
    Path evalOut = tmp.resolve("eval.jsonl");
    refused(List.of("eval", "--model", model.toString(), "--data", data().toString(), "--out", evalOut.toString(),
        "--max-new-tokens", "1000000"), "--max-new-tokens 1000000 exceeds the model's max_position_embeddings 128");
    assertThat(evalOut).doesNotExist();
  }

  @Test
  void negativeCountsAndAMissingCudaAreRefusedUpFront() throws Exception {
    Path model = model();
    Path out = tmp.resolve("o");
    refused(args("train", model, out, "--log-completions", "-1"), "--log-completions must be >= 0");
    refused(args("train", model, out, "--save-total-limit", "-1"), "--save-total-limit must be >= 0 (0 keeps every checkpoint)");
    refused(args("sft", model, out, "--save-total-limit", "-1"), "--save-total-limit must be >= 0");
    assertThat(Cli.run("sft", "--help").out()).contains("0 keeps all");
    assertThat(Cli.run("train", "--help").out()).contains("0 keeps all").contains("--resume-override");
    refused(args("sft", model, out, "--resume-override"), "--resume-override only applies with --resume");
    assertThat(out).doesNotExist();
    assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA), "this ONNX Runtime has CUDA");
    refused(args("train", model, out, "--device", "cuda"), "--device cuda: CUDA is not available in this ONNX Runtime");
    refused(List.of("generate", "--model", model.toString(), "--prompt", "hi", "--device", "cuda"), "--device cuda");
    refused(List.of("eval", "--model", model.toString(), "--data", data().toString(), "--out",
        tmp.resolve("e.jsonl").toString(), "--device", "cuda"), "--device cuda");
    assertThat(out).doesNotExist();
  }
}
