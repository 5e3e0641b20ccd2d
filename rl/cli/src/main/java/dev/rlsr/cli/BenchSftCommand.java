// `rlsr bench sft`: SFT training throughput (tokens/s) of PolicyGraph + SftLoss + AdamW on the random ~5M Llama.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.graph.SftLoss;
import dev.rlsr.policy.graph.TokenBatch;
import dev.rlsr.policy.graph.Training;
import dev.rlsr.policy.model.ModelWeights;
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
    description = {"SFT training steps (forward, backward, gradient accumulation, AdamW) on the random ~5.4M-parameter "
        + "Llama (hidden 256, 6 layers, 8 heads, 4 kv heads, intermediate 688, vocab 2048) with random full-length "
        + "rows: 2 warm-up steps, then --steps timed steps.",
        "Writes {\"tokens_per_second\", \"ms_per_step\", \"params\", \"batch\", \"seq\", \"threads\"} to --json "
            + "(tokens = batch * seq per step; ms_per_step is the mean of the timed steps)."})
public final class BenchSftCommand implements Callable<Integer> {
  static final int WARMUP_STEPS = 2;

  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Option(names = "--batch", defaultValue = "8", description = "Rows per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seq", defaultValue = "128", description = "Tokens per row (default: ${DEFAULT-VALUE}).")
  int seq;

  @Option(names = "--steps", defaultValue = "10", description = "Timed optimizer steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--json", required = true, description = "File the results are written to.")
  Path json;

  @Override
  public Integer call() throws Exception {
    if (batch < 1 || seq < 2 || steps < 1) {
      throw new RlsrException("--batch and --steps must be at least 1 and --seq at least 2");
    }
    ModelWeights weights = ModelWeights.random(BenchModels.small(), 1);
    if (seq > weights.config().maxPositions()) {
      throw new RlsrException("--seq " + seq + " exceeds max_position_embeddings " + weights.config().maxPositions());
    }
    int vocab = weights.config().vocabSize();
    SplittableRandom rng = new SplittableRandom(3);
    int[][] ids = new int[batch][];
    int[][] targets = new int[batch][seq];
    int[][] mask = new int[batch][seq];
    float[][] lossMask = new float[batch][seq];
    for (int b = 0; b < batch; b++) {
      int[] row = rng.ints(seq + 1, 0, vocab).toArray();
      ids[b] = Arrays.copyOf(row, seq);
      System.arraycopy(row, 1, targets[b], 0, seq);
      Arrays.fill(mask[b], 1);
      Arrays.fill(lossMask[b], 1f);
    }
    int[][] positions = SftTrainer.positions(batch, seq);
    PrintWriter out = spec.commandLine().getOut();
    out.printf("bench sft: %,d parameters, batch %d x %d tokens, %d threads%n", weights.parameterCount(), batch, seq,
        threads.threads);
    double elapsedMs;
    SftLoss sft = new SftLoss();
    SftLoss.Inputs in = new SftLoss.Inputs(new TokenBatch(ids, targets, mask, positions), lossMask, 1f / (batch * seq));
    try (PolicyGraph g = PolicyGraph.create(weights, PolicyGraph.Options.training(threads.threads), List.of(sft))) {
      Training training = g.training();
      for (int i = 0; i < WARMUP_STEPS; i++) {
        training.accumulate(sft, in);
        training.applyGradients(1e-4, 0.0, 1.0);
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < steps; i++) {
        training.accumulate(sft, in);
        training.applyGradients(1e-4, 0.0, 1.0);
      }
      elapsedMs = (System.nanoTime() - t0) / 1e6;
    }
    double msPerStep = elapsedMs / steps;
    double tokensPerSecond = batch * (double) seq / (msPerStep / 1000);
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("tokens_per_second", tokensPerSecond);
    o.put("ms_per_step", msPerStep);
    o.put("params", weights.parameterCount());
    o.put("batch", batch);
    o.put("seq", seq);
    o.put("threads", threads.threads);
    out.printf("%.1f ms/step, %.0f tokens/s%n", msPerStep, tokensPerSecond);
    Json.PRETTY.writeValue(json.toFile(), o);
    out.println("wrote " + json);
    return 0;
  }
}
