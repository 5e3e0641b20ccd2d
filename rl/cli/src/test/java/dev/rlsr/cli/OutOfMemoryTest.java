// Running out of memory ends as one error line, never a stack trace: what ran out, the memory plan, the flag to
// change and the last checkpoint, which stays whole and --resume continues from. Forced for real in child JVMs (a
// small heap, a direct-buffer limit), and for TensorFlow with the exception it really throws (a 4 TiB tensor) and
// for ONNX Runtime with the words of its allocator. (RlsrTrainerOutOfMemoryTest fails a run mid-iteration.)
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtException;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.MemoryPlan;
import dev.rlsr.train.MetricsLog;
import dev.rlsr.train.SftOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;

class OutOfMemoryTest {
  @TempDir Path tmp;

  private Path data() throws Exception {
    Path f = tmp.resolve("d.jsonl");
    Files.writeString(f, "{\"prompt\":\"color?\",\"response\":\"red\"}\n{\"prompt\":\"sky?\",\"response\":\"blue sky\"}\n"
        + "{\"prompt\":\"grass?\",\"response\":\"green grass\"}\n");
    return f;
  }

  /** rlsr in a child JVM with {@code jvmOptions}; returns its exit code and output. */
  private Cli.Run child(List<String> jvmOptions, List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(args);
    Path log = tmp.resolve("child-" + System.nanoTime() + ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("child finished").isTrue();
    return new Cli.Run(p.exitValue(), "", Files.readString(log));
  }

  private static void assertOneErrorLine(Cli.Run r) {
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception in thread").doesNotContain("Caused by");
    assertThat(r.err().lines().filter(l -> l.startsWith("error: ")).count()).as(r.err()).isEqualTo(1);
  }

  private static Path latest(Path out) throws Exception {
    Path f = out.resolve(Checkpoints.DIR).resolve(Checkpoints.LATEST);
    return f.resolveSibling(Files.readString(f).trim());
  }

  @Test
  void aHeapThatRunsOutEndsAsOneLineNamingTheHeapVariableAndTheWholeCheckpoint() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.F32, 3);
    Path data = data();
    Path out = tmp.resolve("out");
    List<String> common = List.of("sft", "--model", model.toString(), "--out", out.toString(), "--max-steps", "4",
        "--save-every", "1", "--batch-size", "2", "--max-seq-len", "64", "--threads", "1");
    List<String> first = new ArrayList<>(common);
    first.addAll(List.of("--data", data.toString(), "--stop-after", "2"));
    assertThat(Cli.run(first.toArray(String[]::new)).code()).isZero();
    Path ckpt = latest(out);
    byte[] weights = Files.readAllBytes(ckpt.resolve(Safetensors.SINGLE_FILE));

    // one 160 MB line: reading it needs several times that, in a child JVM whose heap holds 300 MB
    Path big = tmp.resolve("big.jsonl");
    try (var w = Files.newBufferedWriter(big, StandardCharsets.UTF_8)) {
      w.write("{\"prompt\":\"p\",\"response\":\"");
      char[] block = "abcdefgh ".repeat(1 << 16).toCharArray();
      for (int i = 0; i < 160_000_000 / block.length; i++) {
        w.write(block);
      }
      w.write("\"}\n");
    }
    List<String> resume = new ArrayList<>(common);
    resume.addAll(List.of("--data", big.toString(), "--resume", "--resume-override"));
    Cli.Run r = child(List.of("-Xmx300m"), resume);
    assertOneErrorLine(r);
    assertThat(r.err()).contains("error: rlsr sft ran out of memory: the Java heap is full (-Xmx ")
        .contains("The memory plan put this run at about ").contains("RLSR_HEAP=")
        .contains("The last checkpoint, " + ckpt + ", is whole: rerun with --resume to continue from it.");
    assertThat(out.resolve(".rlsr.lock")).doesNotExist();
    assertThat(Files.readAllBytes(ckpt.resolve(Safetensors.SINGLE_FILE))).isEqualTo(weights);

    List<String> again = new ArrayList<>(common);
    again.addAll(List.of("--data", data.toString(), "--resume"));
    var rr = Cli.run(again.toArray(String[]::new));
    assertThat(rr.code()).as(rr.err()).isZero();
    assertThat(rr.err()).contains("resumed from " + ckpt + " at step 2");
    assertThat(MetricsLog.read(out.resolve("metrics.jsonl"))).hasSize(4);
  }

  @Test
  void aDirectBufferLimitThatRunsOutEndsAsOneLineWithItsOwnAdviceAndTheCheckpoint() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.F32, 9);
    Path out = tmp.resolve("out");
    List<String> common = List.of("train", "--model", model.toString(), "--data", data().toString(), "--out",
        out.toString(), "--prompts-per-iteration", "2", "--num-generations", "2", "--max-completion-length", "4",
        "--learning-rate", "5e-3", "--save-every", "1", "--threads", "1", "--micro-batch-size", "2");
    List<String> first = new ArrayList<>(common);
    first.addAll(List.of("--iterations", "2"));
    var r0 = Cli.run(first.toArray(String[]::new));
    assertThat(r0.code()).as(r0.err()).isZero();
    Path ckpt = latest(out);
    List<String> longer = new ArrayList<>(common);
    longer.addAll(List.of("--iterations", "3", "--resume", "--resume-override"));
    // ONNX Runtime takes its inputs and the rollout session its weights in direct buffers: 16 KiB hold neither
    Cli.Run r = child(List.of("-XX:MaxDirectMemorySize=16k"), longer);
    assertOneErrorLine(r);
    assertThat(r.err()).contains("error: rlsr train ran out of memory: the JVM's limit on direct buffers was reached (")
        .contains("raise -XX:MaxDirectMemorySize in RLSR_JAVA_OPTS")
        .contains("The last checkpoint, " + ckpt + ", is whole: rerun with --resume to continue from it.");
    assertThat(out.resolve(".rlsr.lock")).as("the run's lock is released").doesNotExist();
    var rr = Cli.run(longer.toArray(String[]::new));
    assertThat(rr.code()).as(rr.err()).isZero();
    assertThat(MetricsLog.read(out.resolve("metrics.jsonl"))).hasSize(3);
  }

  /** The guard a command installs, for a tiny sft run into {@code out} (with its checkpoints, if any). */
  private void guard(String command, Path out, String rowsFlag, String tokensFlag) throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("g"), TinyCheckpoints.llama(), Safetensors.DType.F32, 1);
    SftOptions o = SftOptions.builder().model(model).data(Path.of("d")).out(out).batchSize(4).maxSeqLen(64).build();
    MemoryLimitMixin limit = new MemoryLimitMixin();
    limit.memoryLimit = "64g";
    MemoryGuard.check(command, List.of(MemoryGuard.plan(TinyCheckpoints.llama(),
        MemoryPlan.sft(command, o, rowsFlag, tokensFlag, 0))), limit, new PrintWriter(new StringWriter()),
        MemoryGuard.roots(out));
  }

  /** What the CLI's error handler prints for {@code ex} out of {@code command}. */
  private static String handled(String command, Exception ex) {
    StringWriter err = new StringWriter();
    var cl = Main.commandLine().getSubcommands().get(command);
    cl.setErr(new PrintWriter(err, true));
    assertThat(new ErrorHandler().handleExecutionException(ex, cl, null)).isEqualTo(1);
    return err.toString();
  }

  @Test
  void tensorFlowsResourceExhaustedErrorNamesTheTensorTheFlagsAndTheCheckpoint() throws Exception {
    Path out = tmp.resolve("out");
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.llama(), Safetensors.DType.F32, 3);
    assertThat(Cli.run("sft", "--model", model.toString(), "--data", data().toString(), "--out", out.toString(),
        "--max-steps", "2", "--max-seq-len", "64", "--threads", "1").code()).isZero();
    Exception tf = null;
    try (Graph g = new Graph(); Session s = new Session(g)) { // [2^20, 2^20] floats: 4 TiB
      Ops ops = Ops.create(g);
      var dims = ops.placeholder(TInt64.class);
      var sum = ops.reduceSum(ops.fill(dims, ops.constant(0f)), ops.constant(new int[] {0, 1}));
      try (TInt64 d = TInt64.vectorOf(1L << 20, 1L << 20)) {
        s.runner().feed(dims, d).fetch(sum).run().close();
      }
    } catch (org.tensorflow.exceptions.TFResourceExhaustedException e) {
      tf = e;
    }
    assertThat(tf).as("TensorFlow refuses a 4 TiB tensor with TFResourceExhaustedException").isNotNull();
    guard("sft", out, "--batch-size", "--max-seq-len");
    String err = handled("sft", tf);
    assertThat(err).startsWith("error: rlsr sft ran out of memory: TensorFlow could not allocate a tensor (OOM when "
        + "allocating tensor with shape[1048576,1048576]");
    assertThat(err).contains("The memory plan put this run at about ").contains("64.0 GiB available (--memory-limit 64g)")
        .contains(": lower --batch-size or --max-seq-len, or free memory")
        .contains("The last checkpoint, " + latest(out) + ", is whole: rerun with --resume to continue from it.");
    assertThat(err.lines().count()).isEqualTo(1);
  }

  @Test
  void anOnnxRuntimeAllocationFailureUnderRlsrExceptionIsRecognised() throws Exception {
    Path out = tmp.resolve("fresh");
    guard("train", out, "--micro-batch-size", "--max-completion-length");
    var ort = new RlsrException("ONNX Runtime failed while sampling rollouts: x", new OrtException(
        OrtException.OrtErrorCode.ORT_RUNTIME_EXCEPTION, "Non-zero status code returned while running MatMul node."
        + " Status Message: bfc_arena.cc:376 AllocateRawInternal Failed to allocate memory for requested buffer of"
        + " size 4398046511104"));
    String err = handled("train", ort);
    assertThat(err).startsWith("error: rlsr train ran out of memory: ONNX Runtime could not allocate memory (")
        .contains("lower --micro-batch-size or --max-completion-length")
        .contains("No checkpoint was written yet");
    // an ordinary ONNX Runtime failure stays its own message
    assertThat(handled("train", new RlsrException("ONNX Runtime failed: bad graph", new OrtException("bad graph"))))
        .isEqualTo("error: ONNX Runtime failed: bad graph" + System.lineSeparator());
  }
}
