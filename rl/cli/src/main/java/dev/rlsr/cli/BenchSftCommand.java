// `rlsr bench sft`: SFT training throughput (tokens/s), per-phase seconds, peak memory and MFU of PolicyGraph +
// SftLoss + AdamW, on --model DIR or a built-in --shape (random weights), with random full-length rows.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.graph.SftLoss;
import dev.rlsr.policy.graph.TokenBatch;
import dev.rlsr.policy.graph.Training;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.SftTrainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "sft", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"SFT training steps (forward, backward, gradient accumulation over --batch / --micro-batch "
        + "micro-batches, AdamW) with random full-length rows on --model or a built-in --shape: --warmup steps, then "
        + "--steps timed steps. MFU = the model FLOPs of a step (6 per matmul weight per token plus attention, as "
        + "PaLM counts them) per second over the float32 matmul peak measured in the same run.",
        "Writes {\"model\", \"params\", \"batch\", \"micro_batch\", \"seq\", \"threads\", \"tokens_per_second\", "
            + "\"ms_per_step\", \"seconds\": {load, build, accumulate, apply}, \"achieved_gflops\", "
            + "\"matmul_peak_gflops\", \"mfu\", \"peak_rss_bytes\"} to --json (tokens = batch * seq per step; "
            + "accumulate and apply are means per timed step; peak_rss_bytes is the process's VmHWM)."})
public final class BenchSftCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;
  @Mixin BenchModelMixin source;

  @Option(names = "--batch", defaultValue = "8", description = "Rows per optimizer step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--micro-batch", description = "Rows per forward/backward; --batch must be a multiple (default: --batch, one micro-batch per step).")
  Integer microBatch;

  @Option(names = "--seq", defaultValue = "128", description = "Tokens per row (default: ${DEFAULT-VALUE}).")
  int seq;

  @Option(names = "--steps", defaultValue = "10", description = "Timed optimizer steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--warmup", defaultValue = "2", description = "Untimed optimizer steps first (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--json", required = true, description = "File the results are written to.")
  Path json;

  @Override
  public Integer call() throws Exception {
    int micro = microBatch == null ? batch : microBatch;
    if (batch < 1 || seq < 2 || steps < 1 || warmup < 0 || micro < 1) {
      throw new RlsrException("--batch, --micro-batch and --steps must be at least 1, --warmup at least 0 and --seq at least 2");
    }
    if (batch % micro != 0) {
      throw new RlsrException("--batch " + batch + " is not a multiple of --micro-batch " + micro);
    }
    try (BenchModelMixin.Loaded model = source.open()) {
      return bench(model);
    }
  }

  private int bench(BenchModelMixin.Loaded model) throws Exception {
    int micro = microBatch == null ? batch : microBatch;
    PrintWriter out = spec.commandLine().getOut();
    double peak = MatmulPeak.measure(threads.threads);
    out.printf("float32 matmul peak (%d x %d, %d threads): %.1f GFLOP/s%n", MatmulPeak.N, MatmulPeak.N,
        threads.threads, peak / 1e9);
    ModelConfig c = model.config();
    if (seq > c.maxPositions()) {
      throw new RlsrException("--seq " + seq + " exceeds max_position_embeddings " + c.maxPositions());
    }
    SplittableRandom rng = new SplittableRandom(3);
    List<SftLoss.Inputs> micros = new java.util.ArrayList<>();
    for (int m = 0; m < batch / micro; m++) {
      micros.add(randomRows(rng, micro, seq, model.promptVocab(), 1f / (batch * seq)));
    }
    out.printf("bench sft: %s, %,d parameters, batch %d (micro-batches of %d) x %d tokens, %d threads%n",
        model.name(), model.params(), batch, micro, seq, threads.threads);
    SftLoss sft = new SftLoss();
    double[] accumulate = new double[steps];
    double[] apply = new double[steps];
    double loadSeconds;
    double buildSeconds;
    long t0 = System.nanoTime();
    try (PolicyGraph g = PolicyGraph.create(c, PolicyGraph.Options.training(threads.threads), List.of(sft))) {
      buildSeconds = (System.nanoTime() - t0) / 1e9;
      long t1 = System.nanoTime();
      model.loadInto(g);
      g.training().resetOptimizer();
      loadSeconds = (System.nanoTime() - t1) / 1e9;
      out.printf("graph %.1f s, weights %.1f s; %d warm-up step(s)...%n", buildSeconds, loadSeconds, warmup);
      out.flush();
      Training training = g.training();
      for (int i = 0; i < warmup; i++) {
        step(training, sft, micros, null, null, 0);
      }
      for (int i = 0; i < steps; i++) {
        step(training, sft, micros, accumulate, apply, i);
        out.printf("step %d: accumulate %.2f s, apply %.2f s%n", i + 1, accumulate[i], apply[i]);
        out.flush();
      }
    }
    double seconds = BenchModels.mean(accumulate) + BenchModels.mean(apply);
    double tokensPerSecond = batch * (double) seq / seconds;
    double achieved = ModelFlops.training(c, batch, seq) / seconds;
    long rss = PeakMemory.peakResidentBytes();
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("model", model.name());
    o.put("params", model.params());
    o.put("batch", batch);
    o.put("micro_batch", micro);
    o.put("seq", seq);
    o.put("threads", threads.threads);
    o.put("tokens_per_second", tokensPerSecond);
    o.put("ms_per_step", seconds * 1000);
    ObjectNode s = o.putObject("seconds");
    s.put("build", buildSeconds);
    s.put("load", loadSeconds);
    s.put("accumulate", BenchModels.mean(accumulate));
    s.put("apply", BenchModels.mean(apply));
    o.put("achieved_gflops", achieved / 1e9);
    o.put("matmul_peak_gflops", peak / 1e9);
    o.put("mfu", achieved / peak);
    o.put("peak_rss_bytes", rss);
    out.printf("%.1f ms/step (accumulate %.2f s, apply %.2f s), %.0f tokens/s, %.1f GFLOP/s = %.1f%% MFU, peak RSS %s%n",
        seconds * 1000, BenchModels.mean(accumulate), BenchModels.mean(apply), tokensPerSecond, achieved / 1e9,
        100 * achieved / peak, PeakMemory.gib(rss));
    Json.PRETTY.writeValue(json.toFile(), o);
    out.println("wrote " + json);
    return 0;
  }

  /** One optimizer step; when {@code acc} is given, the accumulate and apply seconds go into slot {@code i}. */
  private static void step(Training training, SftLoss sft, List<SftLoss.Inputs> micros, double[] acc, double[] app,
      int i) {
    long a = System.nanoTime();
    for (SftLoss.Inputs in : micros) {
      training.accumulate(sft, in);
    }
    long b = System.nanoTime();
    training.applyGradients(1e-4, 0.0, 1.0);
    long e = System.nanoTime();
    if (acc != null) {
      acc[i] = (b - a) / 1e9;
      app[i] = (e - b) / 1e9;
    }
  }

  /** Random full-length rows: next-token targets, every position real and in the loss. */
  private static SftLoss.Inputs randomRows(SplittableRandom rng, int rows, int seq, int vocab, float scale) {
    int[][] ids = new int[rows][];
    int[][] targets = new int[rows][seq];
    int[][] mask = new int[rows][seq];
    float[][] lossMask = new float[rows][seq];
    for (int b = 0; b < rows; b++) {
      int[] row = rng.ints(seq + 1, 0, vocab).toArray();
      ids[b] = Arrays.copyOf(row, seq);
      System.arraycopy(row, 1, targets[b], 0, seq);
      Arrays.fill(mask[b], 1);
      Arrays.fill(lossMask[b], 1f);
    }
    return new SftLoss.Inputs(new TokenBatch(ids, targets, mask, SftTrainer.positions(rows, seq)), lossMask, scale);
  }
}
