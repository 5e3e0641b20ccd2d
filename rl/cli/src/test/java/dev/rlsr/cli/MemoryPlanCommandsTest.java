// Fail before, not after: sft, pretrain and train print their memory plan, and with a deliberately tight memory
// limit refuse before anything is loaded (the model directories below have no weights at all), with the numbers and
// the flag to change, a non-zero exit, no stack trace and nothing written to OUT. Also the phase lines of a real run.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import dev.rlsr.rl.GrpoConfig;
import dev.rlsr.train.AvailableMemory;
import dev.rlsr.train.MemoryPlan;
import dev.rlsr.train.SftOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryPlanCommandsTest {
  static final long GIB = 1L << 30;
  @TempDir Path tmp;

  /** Qwen2.5-0.5B's config.json and a tokenizer, but no model.safetensors: any attempt to load weights fails. */
  private Path qwenWithoutWeights(int layers, int hidden, int intermediate) throws Exception {
    Path dir = tmp.resolve("qwen-" + layers + "-" + hidden);
    Files.createDirectories(dir);
    ModelConfig c = ModelConfig.builder("qwen2").vocabSize(151936).hiddenSize(hidden).intermediateSize(intermediate)
        .layers(layers).heads(hidden % 14 == 0 ? 14 : 16).kvHeads(2).tied(true).ropeTheta(1e6).maxPositions(32768).build();
    Json.PRETTY.writeValue(dir.resolve("config.json").toFile(), c.toJson());
    TinyCheckpoints.writeTokenizer(dir, true);
    return dir;
  }

  private static ModelConfig config(Path dir) {
    return ModelConfig.read(dir.resolve("config.json"));
  }

  private Path data() throws Exception {
    Path f = tmp.resolve("d.jsonl");
    Files.writeString(f, "{\"prompt\":\"color?\",\"response\":\"red\"}\n{\"prompt\":\"sky?\",\"response\":\"blue sky\"}\n");
    return f;
  }

  private static void assertRefusedBeforeAnything(Cli.Run r, Path out) {
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception");
    assertThat(r.err()).doesNotContain("loading ").as("no phase began");
    assertThat(out).as("nothing written to OUT: no lock file, no metrics.jsonl").doesNotExist();
  }

  @Test
  void sftWithATightLimitIsRefusedWithTheBatchSizeThatFits() throws Exception {
    Path model = qwenWithoutWeights(24, 896, 4864);
    Path out = tmp.resolve("out");
    var r = Cli.run("sft", "--model", model.toString(), "--data", data().toString(), "--out", out.toString(),
        "--batch-size", "8", "--max-seq-len", "1024", "--grad-accum", "2", "--memory-limit", "20g");
    assertRefusedBeforeAnything(r, out);
    SftOptions o = SftOptions.builder().model(model).data(Path.of("d")).out(out).batchSize(8).maxSeqLen(1024)
        .gradAccum(2).build();
    MemoryPlan plan = MemoryGuard.plan(config(model), MemoryPlan.sft("sft", o, "--batch-size", "--max-seq-len", 0));
    List<String> fixes = plan.fixes(20 * GIB);
    assertThat(fixes.get(0)).startsWith("lower --batch-size to ");
    assertThat(r.err()).contains("memory: " + plan.summary() + "; 20.0 GiB available (--memory-limit 20g)");
    assertThat(r.err()).contains("error: rlsr sft: this run needs " + plan.summary()
        + " but 20.0 GiB is available (--memory-limit 20g): " + String.join(", or ", fixes));
    assertThat(r.err()).contains("activations at --batch-size 8 x --max-seq-len 1024: ");
  }

  @Test
  void aLimitBelowWhatAnyBatchNeedsNamesTheLimitItself() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("tiny"), TinyCheckpoints.llama(), Safetensors.DType.F32, 1);
    Path out = tmp.resolve("out");
    var r = Cli.run("sft", "--model", model.toString(), "--data", data().toString(), "--out", out.toString(),
        "--memory-limit", "64m");
    assertRefusedBeforeAnything(r, out);
    assertThat(r.err()).contains("but 0.1 GiB is available (--memory-limit 64m): even at --batch-size 1")
        .contains("raise --memory-limit if more is free");
  }

  @Test
  void pretrainIsRefusedTheSameWay() throws Exception {
    Path model = qwenWithoutWeights(24, 896, 4864);
    Path corpus = tmp.resolve("c.txt");
    Files.writeString(corpus, "some text\nmore text\n");
    Path out = tmp.resolve("out");
    SftOptions two = SftOptions.pretrainBuilder().model(model).data(corpus).out(out).batchSize(2).maxSeqLen(2048)
        .build();
    long fits = MemoryGuard.plan(config(model), MemoryPlan.sft("pretrain", two, "--batch-size", "--max-seq-len", 0))
        .total();
    String limit = (fits >> 20) + "m"; // what --batch-size 2 needs, rounded down to MiB: 1 fits, 2 does not
    var r = Cli.run("pretrain", "--model", model.toString(), "--corpus", corpus.toString(), "--out", out.toString(),
        "--batch-size", "16", "--max-seq-len", "2048", "--memory-limit", limit);
    assertRefusedBeforeAnything(r, out);
    assertThat(r.err()).contains("error: rlsr pretrain: this run needs about ")
        .contains("(--memory-limit " + limit + "): lower --batch-size to 1 (about ");
  }

  @Test
  void trainTakesTheLimitFromItsConfigFileAndSuggestsTheMicroBatch() throws Exception {
    Path model = qwenWithoutWeights(24, 896, 4864);
    Path out = tmp.resolve("out");
    GrpoConfig g = GrpoConfig.builder().model(model).data(Path.of("d")).out(out).build();
    MemoryPlan plan = MemoryGuard.plan(config(model), MemoryPlan.rlsr(g, MemoryPlan.EMBEDDER_BUILT_IN_BYTES));
    long two = plan.with(plan.run().withRows(2)).total();
    String limit = ((two >> 20) + 1) + "m"; // --micro-batch-size 2 fits, the default 16 does not
    Path yaml = tmp.resolve("run.yaml");
    Files.writeString(yaml, "memory-limit: " + limit + "\nmicro-batch-size: 16\n");
    var r = Cli.run("train", "--config", yaml.toString(), "--model", model.toString(), "--data", data().toString(),
        "--out", out.toString());
    assertRefusedBeforeAnything(r, out);
    assertThat(r.err()).contains("error: rlsr train: this run needs " + plan.summary() + " but ")
        .contains("GiB is available (--memory-limit " + limit + "): lower --micro-batch-size to 2 (about "
            + MemoryPlan.gib(two) + " GiB)");
    // a training step runs without the rollout session (released after the rollouts): it is not in this phase
    assertThat(r.err()).doesNotContain("rollout session").contains("reference model").contains("reward embedder");
  }

  @Test
  void trainWithAnSftPhaseIsRefusedWhenThatPhaseDoesNotFit() throws Exception {
    Path model = qwenWithoutWeights(24, 896, 4864);
    Path out = tmp.resolve("out");
    GrpoConfig g = GrpoConfig.builder().model(model).data(Path.of("d")).out(out).microBatchSize(1)
        .maxPromptLength(32).maxCompletionLength(16).promptsPerIteration(1).numGenerations(2).build();
    long rlsr = MemoryGuard.plan(config(model), MemoryPlan.rlsr(g, MemoryPlan.EMBEDDER_BUILT_IN_BYTES)).total();
    String limit = ((rlsr >> 20) + 64) + "m"; // the RLSR phase fits, the SFT phase at 8 x 1024 does not
    var r = Cli.run("train", "--model", model.toString(), "--data", data().toString(), "--out", out.toString(),
        "--micro-batch-size", "1", "--max-prompt-length", "32", "--max-completion-length", "16",
        "--prompts-per-iteration", "1", "--num-generations", "2", "--sft-steps", "5", "--sft-batch-size", "8",
        "--sft-max-seq-len", "1024", "--memory-limit", limit);
    assertRefusedBeforeAnything(r, out);
    assertThat(r.err()).contains("activations at --sft-batch-size 8 x --sft-max-seq-len 1024")
        .contains("lower --sft-batch-size to ");
  }

  @Test
  void aHeapTooSmallForTheCheckpointsIsRefusedNamingTheLaunchersHeapVariable() throws Exception {
    // a 151,936 x 16,384 embedding: 9.3 GiB, one tensor, more than the test JVM's heap as it streams through it
    Path model = qwenWithoutWeights(2, 16384, 1024);
    Path out = tmp.resolve("out");
    var r = Cli.run("sft", "--model", model.toString(), "--data", data().toString(), "--out", out.toString(),
        "--batch-size", "1", "--max-seq-len", "64", "--memory-limit", "4t");
    assertRefusedBeforeAnything(r, out);
    assertThat(r.err()).contains("GiB of Java heap at its checkpoints").contains("but the heap is capped at "
        + MemoryPlan.gib(Runtime.getRuntime().maxMemory()) + " GiB").contains("RLSR_HEAP=");
  }

  @Test
  void aBadSizeIsAUsageError() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("tiny"), TinyCheckpoints.llama(), Safetensors.DType.F32, 1);
    var r = Cli.run("sft", "--model", model.toString(), "--data", data().toString(), "--out",
        tmp.resolve("o").toString(), "--memory-limit", "lots");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--memory-limit").contains("expected a size such as 20g, 512m or 1.5g");
  }

  @Test
  void aRunThatFitsPrintsItsPlanThenEachPhaseWithItsSecondsBeforeTheFirstStep() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("tiny"), TinyCheckpoints.llama(), Safetensors.DType.F32, 1);
    Path out = tmp.resolve("out");
    var r = Cli.run("sft", "--model", model.toString(), "--data", data().toString(), "--out", out.toString(),
        "--max-steps", "2", "--batch-size", "2", "--max-seq-len", "64", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    AvailableMemory detected = AvailableMemory.detect();
    assertThat(r.err()).containsPattern("memory: about [0-9.]+ GiB at its peak, in (a training step|a checkpoint) "
        + "\\(weights 0\\.0, gradients 0\\.0, AdamW moments 0\\.0, runtime [0-9.]+, Java heap [0-9.]+, .*\\); "
        + (detected.known() ? "[0-9.]+ GiB available \\(" : "the memory available is unknown"));
    List<String> lines = r.err().lines().toList();
    int plan = indexOf(lines, "memory: about ");
    int load = indexOf(lines, "] loading " + model.resolve("model.safetensors") + " (");
    int graph = indexOf(lines, "] building the TensorFlow graph (2 layers, with gradients and AdamW) and loading the weights...");
    int first = indexOf(lines, "] first step (2 x up to 64 tokens)...");
    assertThat(List.of(plan, load, graph, first)).as(r.err()).doesNotContain(-1).isSorted();
    assertThat(lines.get(load)).matches("\\[ *[0-9]+\\.[0-9] s\\] loading .*\\(\\d+K parameters\\)\\.\\.\\.");
  }

  private static int indexOf(List<String> lines, String part) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(part)) {
        return i;
      }
    }
    return -1;
  }
}
