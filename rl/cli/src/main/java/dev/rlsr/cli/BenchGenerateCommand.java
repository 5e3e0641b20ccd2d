// `rlsr bench generate`: greedy generation throughput of ONNX Runtime with a KV cache, ONNX Runtime recomputing the
// sequence each step, and TensorFlow Java, on the same model and prompts; plus weight-sync time against a rollout batch.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.export.Device;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.runtime.EngineOptions;
import dev.rlsr.export.runtime.RolloutEngines;
import dev.rlsr.export.runtime.RolloutEngines.Backend;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Greedy generation of --new-tokens tokens for --batch random prompts of --prompt-len tokens (no stop "
        + "token, so every row runs to the end) on --model or a built-in --shape, on the --backends, each warmed up "
        + "once, then timed --repeats times (median):",
        "  onnx_kv         ONNX Runtime with the KV cache (OrtSampler, the rollout path of rlsr train)",
        "  onnx_recompute  ONNX Runtime, the same graph fed the whole sequence with an empty past each step",
        "  tf              TensorFlow Java (TfGenerator, whole sequence each step)",
        "tokens_per_second = batch * new_tokens / median seconds; ms_per_token = 1000 / tokens_per_second. "
            + "weight_sync_ms: median time to create a rollout session from the small proto and the weights "
            + "(the per-step weight sync of rlsr train), against rollout_batch_ms, the median onnx_kv run. "
            + "mfu: the model FLOPs a KV cache needs (prefill, then each new token over its context) per second over "
            + "the float32 matmul peak measured in the same run.",
        "Writes {\"model\", \"params\", \"batch\", \"prompt_len\", \"new_tokens\", \"threads\", \"matmul_peak_gflops\", "
            + "\"backends\": {name: {tokens_per_second, ms_per_token, seconds_per_batch, mfu}}, \"ratios\": "
            + "{onnx_kv_over_tf, onnx_kv_over_recompute}, \"weight_sync_ms\", \"rollout_batch_ms\", \"peak_rss_bytes\"} "
            + "to --json (ratios only for backends that ran)."})
public final class BenchGenerateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsMixin threads;

  @Mixin BenchModelMixin source;

  @Option(names = "--backends", split = ",", defaultValue = "onnx_kv,onnx_recompute,tf", description = "Backends to time, comma-separated, from onnx_kv, onnx_recompute, tf (default: ${DEFAULT-VALUE}; at real size tf and onnx_recompute take minutes).")
  List<String> backendNames;

  @Option(names = "--batch", defaultValue = "16", description = "Prompts per batch (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--new-tokens", defaultValue = "64", description = "Tokens generated per prompt (default: ${DEFAULT-VALUE}).")
  int newTokens;

  @Option(names = "--prompt-len", defaultValue = "16", description = "Tokens per random prompt (default: ${DEFAULT-VALUE}).")
  int promptLen;

  @Option(names = "--repeats", defaultValue = "3", description = "Timed runs per backend after one warm-up; the median counts (default: ${DEFAULT-VALUE}).")
  int repeats;

  @Option(names = "--logits", defaultValue = "last", converter = FlagConverters.Logits.class, description = "Rollout graph of the ONNX backends: last (next-token logits only, as rlsr train uses) or all positions (default: ${DEFAULT-VALUE}).")
  OnnxPolicyExporter.Logits logits;

  @Option(names = "--sync-repeats", defaultValue = "5", description = "Timed weight syncs after one warm-up; the median counts (default: ${DEFAULT-VALUE}).")
  int syncRepeats;

  @Option(names = "--json", required = true, description = "File the results are written to.")
  Path json;

  @Override
  public Integer call() throws Exception {
    if (batch < 1 || newTokens < 1 || promptLen < 1 || repeats < 1 || syncRepeats < 1) {
      throw new RlsrException("--batch, --new-tokens, --prompt-len, --repeats and --sync-repeats must be at least 1");
    }
    for (String bn : backendNames) {
      if (!List.of("onnx_kv", "onnx_recompute", "tf").contains(bn)) {
        throw new RlsrException("--backends: unknown backend '" + bn + "' (backends: onnx_kv, onnx_recompute, tf)");
      }
    }
    try (BenchModelMixin.Loaded loaded = source.open()) {
      return bench(loaded);
    }
  }

  private int bench(BenchModelMixin.Loaded loaded) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    double peak = MatmulPeak.measure(threads.threads);
    out.printf("float32 matmul peak (%d x %d, %d threads): %.1f GFLOP/s%n", MatmulPeak.N, MatmulPeak.N,
        threads.threads, peak / 1e9);
    TensorSource weights = loaded.weights();
    String name = loaded.name();
    int promptVocab = loaded.promptVocab();
    ModelConfig c = loaded.config();
    if (promptLen + newTokens > c.maxPositions()) {
      throw new RlsrException("--prompt-len + --new-tokens = " + (promptLen + newTokens)
          + " exceeds the model's max_position_embeddings " + c.maxPositions());
    }
    SplittableRandom rng = new SplittableRandom(7);
    List<int[]> prompts = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      prompts.add(rng.ints(promptLen, 0, promptVocab).toArray());
    }
    SamplingOptions greedy = SamplingOptions.greedy(newTokens, List.of(), 0);
    out.printf("bench generate: %s, %,d parameters, batch %d, prompt %d, %d new tokens, %d threads%n",
        name, loaded.params(), batch, promptLen, newTokens, threads.threads);

    EngineOptions eo = EngineOptions.of(threads.threads, Device.CPU)
        .withLogits(logits);
    LinkedHashMap<String, double[]> times = new LinkedHashMap<>();   // backend -> timed runs in ms
    LinkedHashMap<String, List<Rollout>> results = new LinkedHashMap<>();
    double[] sync = new double[syncRepeats];
    Map<String, Backend> backends = Map.of("onnx_kv", Backend.ONNX, "onnx_recompute", Backend.ONNX_RECOMPUTE,
        "tf", Backend.TF);
    for (String bn : List.of("onnx_kv", "onnx_recompute", "tf")) {
      if (backendNames.contains(bn)) {
        try (RolloutEngine engine = RolloutEngines.open(backends.get(bn), c, weights, eo)) {
          time(bn, p -> engine.sample(p, greedy), prompts, times, results);
        }
        out.printf("%s done (peak RSS so far %s)%n", bn, PeakMemory.gib(PeakMemory.peakResidentBytes()));
        out.flush();
      }
    }
    try (RolloutEngine rollouts = RolloutEngines.open(Backend.ONNX, c, weights, eo)) {
      rollouts.sync(weights);   // warm-up
      for (int i = 0; i < sync.length; i++) {
        long t0 = System.nanoTime();
        rollouts.sync(weights);  // rlsr train's weight sync: a session from the small proto, the old one closed
        sync[i] = (System.nanoTime() - t0) / 1e6;
      }
    }

    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("model", name);
    o.put("batch", batch);
    o.put("new_tokens", newTokens);
    // model FLOPs of the batch: the prompt's prefill, then each new token over its context (what a KV cache needs)
    double flops = ModelFlops.forward(c, batch, promptLen);
    for (int j = 0; j < newTokens; j++) {
      flops += batch * ModelFlops.forwardPerToken(c, promptLen + j + 1);
    }
    o.put("params", loaded.params());
    o.put("prompt_len", promptLen);
    o.put("threads", threads.threads);
    o.put("matmul_peak_gflops", peak / 1e9);
    ObjectNode backendsJson = o.putObject("backends");
    Map<String, Double> tps = new LinkedHashMap<>();
    out.printf("%-16s %12s %12s %14s %8s%n", "backend", "tokens/s", "ms/token", "ms/batch", "MFU");
    for (var e : times.entrySet()) {
      double ms = BenchModels.median(e.getValue());
      double perSecond = batch * (double) newTokens / (ms / 1000);
      tps.put(e.getKey(), perSecond);
      ObjectNode b = backendsJson.putObject(e.getKey());
      b.put("tokens_per_second", perSecond);
      b.put("ms_per_token", 1000 / perSecond);
      b.put("seconds_per_batch", ms / 1000);
      b.put("mfu", flops / (ms / 1000) / peak);
      out.printf("%-16s %12.1f %12.3f %14.1f %7.1f%%%n", e.getKey(), perSecond, 1000 / perSecond, ms,
          100 * flops / (ms / 1000) / peak);
    }
    ObjectNode ratios = o.putObject("ratios");
    if (tps.containsKey("onnx_kv") && tps.containsKey("tf")) {
      ratios.put("onnx_kv_over_tf", tps.get("onnx_kv") / tps.get("tf"));
      out.printf("onnx_kv / tf: %.2fx%n", ratios.get("onnx_kv_over_tf").asDouble());
    }
    if (tps.containsKey("onnx_kv") && tps.containsKey("onnx_recompute")) {
      ratios.put("onnx_kv_over_recompute", tps.get("onnx_kv") / tps.get("onnx_recompute"));
      out.printf("onnx_kv / onnx_recompute: %.2fx%n", ratios.get("onnx_kv_over_recompute").asDouble());
    }
    double syncMs = BenchModels.median(sync);
    o.put("weight_sync_ms", syncMs);
    if (times.containsKey("onnx_kv")) {
      double batchMs = BenchModels.median(times.get("onnx_kv"));
      o.put("rollout_batch_ms", batchMs);
      out.printf("weight sync %.1f ms vs one rollout batch %.1f ms (%.1f%%)%n", syncMs, batchMs, 100 * syncMs / batchMs);
    } else {
      out.printf("weight sync %.1f ms%n", syncMs);
    }
    long rss = PeakMemory.peakResidentBytes();
    o.put("peak_rss_bytes", rss);
    out.printf("peak RSS %s%n", PeakMemory.gib(rss));
    out.printf("greedy tokens identical across backends: %s%n", sameTokens(results));
    Json.PRETTY.writeValue(json.toFile(), o);
    out.println("wrote " + json);
    return 0;
  }

  /** One warm-up run, then --repeats timed runs (ms) under {@code name}. */
  private void time(String name, Function<List<int[]>, List<Rollout>> gen, List<int[]> prompts,
      Map<String, double[]> times, Map<String, List<Rollout>> results) {
    results.put(name, gen.apply(prompts));
    double[] ms = new double[repeats];
    for (int r = 0; r < repeats; r++) {
      long t0 = System.nanoTime();
      gen.apply(prompts);
      ms[r] = (System.nanoTime() - t0) / 1e6;
    }
    times.put(name, ms);
  }

  private static boolean sameTokens(Map<String, List<Rollout>> results) {
    List<Rollout> ref = results.values().iterator().next();
    for (List<Rollout> rs : results.values()) {
      for (int b = 0; b < ref.size(); b++) {
        if (!Arrays.equals(ref.get(b).tokens(), rs.get(b).tokens())) {
          return false;
        }
      }
    }
    return true;
  }
}
