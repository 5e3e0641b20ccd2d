// `rlsr bench train`: RLSR iterations (rollout -> reward -> log-probs -> update -> sync) on --model or a built-in
// --shape, each phase timed by the trainer itself, with tokens/s, MFU of the TensorFlow passes and peak memory.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.demo.DemoData;
import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.JsonlDataset;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.FileTrees;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.JsonLines;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.rl.GrpoConfig;
import dev.rlsr.rl.RlsrTrainer;
import java.io.BufferedWriter;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"RLSR iterations of rlsr train (rollouts in ONNX Runtime, rewards, log-probs and the GRPO update "
        + "in TensorFlow, the weight sync) on --model or a built-in --shape, with the phases timed by the trainer "
        + "(its metrics.jsonl seconds_*). The first --warmup iterations are run and reported but not counted.",
        "--shape writes a temporary model directory: the shape's config.json, random weights, and a word-level "
            + "tokenizer of the shape's vocabulary (every id a made-up word, so completions decode to text the "
            + "reward embedder scores); its prompts and references are random words. With --model the prompts come "
            + "from --data, else from the demo's instruction data.",
        "MFU of update and logprobs: the model FLOPs of the real tokens of each pass (training 3x forward, 2x with "
            + "--lora-r, whose frozen base has no weight gradients; "
            + "logprobs one forward for the policy plus one for the reference when --beta > 0) per second over the "
            + "float32 matmul peak measured in the same run. sync_share = seconds_sync / seconds_iteration.",
        "Writes {\"model\", \"params\", \"prompts\", \"generations\", \"completion_tokens\", \"threads\", "
            + "\"lora_r\", \"matmul_peak_gflops\", \"iterations\": [metrics row + mfu_update, mfu_logprobs, sync_share], "
            + "\"timed\": {means of the counted iterations}, \"seconds_checkpoint\", \"peak_rss_bytes\"} to --json."})
public final class BenchTrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;
  @Mixin BenchModelMixin source;
  @Mixin LoraMixin lora;

  @Option(names = "--data", description = "JSONL of (prompt, response) pairs for --model (default: the demo's instruction data).")
  Path data;

  @Option(names = "--prompts", defaultValue = "4", description = "Prompts per iteration (default: ${DEFAULT-VALUE}).")
  int prompts;

  @Option(names = "--generations", defaultValue = "4", description = "Completions per prompt (default: ${DEFAULT-VALUE}).")
  int generations;

  @Option(names = "--new-tokens", defaultValue = "64", description = "Completion tokens (default: ${DEFAULT-VALUE}).")
  int newTokens;

  @Option(names = "--prompt-words", defaultValue = "48", description = "Words per random prompt of --shape (default: ${DEFAULT-VALUE}).")
  int promptWords;

  @Option(names = "--micro-batch-size", defaultValue = GrpoConfig.DEFAULT_MICRO_BATCH_SIZE, description = "Rows per TensorFlow forward/backward, as rlsr train's flag (default: ${DEFAULT-VALUE}).")
  int microBatch;

  @Option(names = "--beta", defaultValue = GrpoConfig.DEFAULT_BETA, description = "KL weight, as rlsr train's flag; 0 skips the reference model (default: ${DEFAULT-VALUE}).")
  double beta;

  @Option(names = "--rollout-dtype", defaultValue = GrpoConfig.DEFAULT_ROLLOUT_DTYPE, converter = FlagConverters.RolloutDtype.class, description = "As rlsr train's flag: fp32, q8 or q4 rollout weights (default: ${DEFAULT-VALUE}).")
  dev.rlsr.export.ExportDtype rolloutDtype;

  @Option(names = "--iterations", defaultValue = "2", description = "Iterations run (default: ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--warmup", defaultValue = "1", description = "Leading iterations not counted in \"timed\" (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--work-dir", description = "Where the run (and a --shape model) is written; deleted afterwards (default: a temporary directory).")
  Path workDir;

  @Option(names = "--json", required = true, description = "File the results are written to.")
  Path json;

  @Override
  public Integer call() throws Exception {
    if (prompts < 1 || generations < 2 || newTokens < 1 || iterations < 1 || warmup < 0 || warmup >= iterations) {
      throw new RlsrException("--prompts and --new-tokens must be at least 1, --generations at least 2, "
          + "--iterations at least 1 and --warmup below --iterations");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    double peak = MatmulPeak.measure(threads.threads);
    out.printf("float32 matmul peak (%d x %d, %d threads): %.1f GFLOP/s%n", MatmulPeak.N, MatmulPeak.N,
        threads.threads, peak / 1e9);
    Path work = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("rlsr-bench-train");
    try {
      Path modelDir;
      Path dataFile;
      String name;
      if (source.modelDir() != null) {
        modelDir = source.modelDir();
        name = modelDir.toString();
        dataFile = data != null ? data : demoData(work);
      } else {
        if (data != null) {
          throw new RlsrException("--data goes with --model; a --shape benchmark writes its own random-word data");
        }
        name = "random " + source.shapeName();
        out.printf("writing the %s model (random weights, word-level tokenizer) to %s...%n", source.shapeName(), work);
        out.flush();
        modelDir = shapeModel(work.resolve("model"));
        dataFile = shapeData(work, ModelConfig.read(modelDir.resolve(HfModel.CONFIG)));
      }
      ModelConfig c = ModelConfig.read(modelDir.resolve(HfModel.CONFIG));
      long params = dev.rlsr.policy.model.ModelWeights.layout(c).values().stream()
          .mapToLong(dev.rlsr.policy.model.FloatTensor::numel).sum();
      out.printf("bench train: %s, %,d parameters, %d prompts x %d completions x %d new tokens, micro-batch %d, "
          + "beta %s, %s, %d threads%n", name, params, prompts, generations, newTokens, microBatch, beta,
          lora.r > 0 ? "LoRA r " + lora.r : "full fine-tuning", threads.threads);
      out.flush();
      Path runDir = work.resolve("run");
      GrpoConfig cfg = GrpoConfig.builder().model(modelDir).data(dataFile).out(runDir).iterations(iterations)
          .promptsPerIteration(prompts).numGenerations(generations).maxCompletionLength(newTokens)
          .microBatchSize(microBatch).beta(beta).lora(lora.config()).rolloutDtype(rolloutDtype).saveEvery(0).saveTotalLimit(1).logCompletions(0)
          .threads(threads.threads).build().validate();
      List<Example> examples = JsonlDataset.read(dataFile);
      long t0;
      long tEnd;
      try (SentenceEmbedder enc = SentenceEmbedder.load(cfg.embedder(), threads.threads)) {
        EmbeddingReward reward = new EmbeddingReward(enc);
        t0 = System.nanoTime();
        new RlsrTrainer(cfg, err).run(examples, reward::score);
        tEnd = System.nanoTime();
      }
      long rss = PeakMemory.peakResidentBytes();

      ObjectNode o = Json.MAPPER.createObjectNode();
      o.put("model", name);
      o.put("params", params);
      o.put("prompts", prompts);
      o.put("generations", generations);
      o.put("completion_tokens", newTokens);
      o.put("micro_batch_size", microBatch);
      o.put("beta", beta);
      o.put("lora_r", cfg.lora() == null ? 0 : cfg.lora().r());
      o.put("rollout_dtype", rolloutDtype.toString());
      o.put("threads", threads.threads);
      o.put("matmul_peak_gflops", peak / 1e9);
      ArrayNode rows = o.putArray("iterations");
      double iterSum = 0;
      for (JsonLines.Line line : JsonLines.readAll(runDir.resolve("metrics.jsonl"))) {
        ObjectNode row = (ObjectNode) Json.MAPPER.readTree(line.text());
        double tokens = row.path("update_tokens").asDouble();
        double len = row.path("update_padded_tokens").asDouble() / (prompts * generations);
        double forward = tokens * ModelFlops.forwardPerToken(c, len);
        // training is 3x forward (activation and weight gradients); with a frozen base 2x (no weight gradients)
        row.put("mfu_update", (cfg.lora() == null ? 3 : 2) * forward * cfg.numIterations() / row.path("seconds_update").asDouble() / peak);
        row.put("mfu_logprobs", forward * (beta > 0 ? 2 : 1) / row.path("seconds_logprobs").asDouble() / peak);
        row.put("sync_share", row.path("seconds_sync").asDouble() / row.path("seconds_iteration").asDouble());
        rows.add(row);
        iterSum += row.path("seconds_iteration").asDouble();
      }
      ObjectNode timed = o.putObject("timed");
      for (String k : List.of("seconds_rollout", "seconds_reward", "seconds_logprobs", "seconds_update", "seconds_sync",
          "seconds_iteration", "mfu_update", "mfu_logprobs", "sync_share", "completion_tokens")) {
        double sum = 0;
        for (int i = warmup; i < rows.size(); i++) {
          sum += rows.get(i).path(k).asDouble();
        }
        timed.put(k, sum / (rows.size() - warmup));
      }
      timed.put("rollout_tokens_per_second", timed.get("completion_tokens").asDouble()
          / timed.get("seconds_rollout").asDouble());
      // what the run spent outside its iterations: loading, graph building, the final checkpoint and publish
      o.put("seconds_outside_iterations", (tEnd - t0) / 1e9 - iterSum);
      o.put("peak_rss_bytes", rss);
      out.printf("%-10s %9s %9s %9s %9s %9s %9s %8s %8s %6s%n", "iteration", "rollout", "reward", "logprobs", "update",
          "sync", "total", "MFU upd", "MFU lp", "sync%");
      for (JsonNode row : rows) {
        out.printf("%-10d %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %7.1f%% %7.1f%% %5.1f%%%n", row.path("iteration").asInt(),
            row.path("seconds_rollout").asDouble(), row.path("seconds_reward").asDouble(),
            row.path("seconds_logprobs").asDouble(), row.path("seconds_update").asDouble(),
            row.path("seconds_sync").asDouble(), row.path("seconds_iteration").asDouble(),
            100 * row.path("mfu_update").asDouble(), 100 * row.path("mfu_logprobs").asDouble(),
            100 * row.path("sync_share").asDouble());
      }
      out.printf("rollout %.1f tokens/s; outside the iterations (load, graphs, final checkpoint) %.1f s; peak RSS %s%n",
          timed.get("rollout_tokens_per_second").asDouble(), o.get("seconds_outside_iterations").asDouble(),
          PeakMemory.gib(rss));
      Json.PRETTY.writeValue(json.toFile(), o);
      out.println("wrote " + json);
      return 0;
    } finally {
      FileTrees.deleteTree(work);
    }
  }

  /** The shape's published config.json, random weights (bf16, as the published checkpoints) and a tokenizer. */
  private Path shapeModel(Path dir) throws java.io.IOException {
    Files.createDirectories(dir);
    String shape = source.shapeName();
    if (shape.equals("small")) {
      Json.PRETTY.writeValue(dir.resolve(HfModel.CONFIG).toFile(), BenchModels.small().toJson());
    } else {
      try (InputStream in = BenchModels.class.getResourceAsStream("shapes/" + shape + ".json")) {
        Files.copy(in, dir.resolve(HfModel.CONFIG));
      }
    }
    ModelConfig c = ModelConfig.read(dir.resolve(HfModel.CONFIG));
    SyntheticTokenizer.write(dir, c.vocabSize());
    Safetensors.write(dir.resolve(Safetensors.SINGLE_FILE), BenchModels.random(shape), Safetensors.DType.BF16,
        Map.of("format", "pt")); // streamed: one tensor drawn and written at a time
    return dir;
  }

  /** Random-word prompts and references (enough for every iteration to take fresh prompts). */
  private Path shapeData(Path work, ModelConfig c) throws java.io.IOException {
    Path file = work.resolve("data.jsonl");
    SplittableRandom rng = new SplittableRandom(11);
    try (BufferedWriter w = Files.newBufferedWriter(file)) {
      for (int i = 0; i < prompts * iterations; i++) {
        ObjectNode row = Json.MAPPER.createObjectNode();
        row.put("prompt", SyntheticTokenizer.randomText(rng, promptWords, c.vocabSize()));
        row.put("response", SyntheticTokenizer.randomText(rng, newTokens, c.vocabSize()));
        w.write(Json.MAPPER.writeValueAsString(row));
        w.write('\n');
      }
    }
    return file;
  }

  /** The demo's instruction data (train split) as JSONL. */
  private static Path demoData(Path work) throws java.io.IOException {
    Path file = work.resolve("data.jsonl");
    List<String> lines = new ArrayList<>();
    for (DemoData.Item item : DemoData.generate(DemoData.DEFAULT_SEED).train()) {
      ObjectNode row = Json.MAPPER.createObjectNode();
      row.put("prompt", item.prompt());
      row.put("response", item.response());
      lines.add(Json.MAPPER.writeValueAsString(row));
    }
    Files.write(file, lines);
    return file;
  }
}
