// Bench (not a test): the sync of a LoRA rollout engine (adapter only, same session) against the whole-weight sync
// (a new session) on the same model, and what the unmerged adapter costs per sampled token.
// Run: mvn -q -o -pl export -am test-compile, then
//   java -cp <test classpath of export> dev.rlsr.export.runtime.LoraSyncBench MODEL_DIR|CONFIG_JSON [r] [threads] [syncs]
// A model directory gives its weights (read from its files at every sync); a config.json alone gives random weights
// (RandomWeights, seed 1) of that size, drawn once into memory (at 0.5B give the JVM -Xmx6g).
package dev.rlsr.export.runtime;

import dev.rlsr.export.Device;
import dev.rlsr.export.LoraTestWeights;
import dev.rlsr.export.runtime.RolloutEngines.Backend;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.RandomWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

public final class LoraSyncBench {
  public static void main(String[] args) throws Exception {
    Path path = Path.of(args[0]);
    int r = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    int syncs = args.length > 3 ? Integer.parseInt(args[3]) : 5;
    HfModel model = Files.isDirectory(path) ? HfModel.load(path) : null;
    try {
      ModelConfig c = model != null ? model.config() : ModelConfig.read(path);
      // random weights are drawn once into memory, so the syncs below time the sync and not the draws
      TensorSource base = model != null ? model.tensors() : inMemory(c, new RandomWeights(c, 1));
      LoraConfig lora = LoraConfig.of(r);
      List<TensorSource> adapters = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        adapters.add(TensorSource.of(LoraTestWeights.random(c, lora, 10 + i, 0.01)));
      }
      long adapterValues = adapters.get(0).numel();
      System.out.printf("%s: %,d base parameters (%.1f MB float32), LoRA r=%d all-linear: %,d adapter parameters "
          + "(%.1f MB), %d threads%n", path, base.numel(), base.numel() * 4 / 1e6, r, adapterValues,
          adapterValues * 4 / 1e6, threads);
      EngineOptions o = EngineOptions.of(threads, Device.CPU);
      List<int[]> prompts = List.of(new int[] {1, 2, 3, 4, 5, 6, 7, 8}, new int[] {9, 10, 11, 12}, new int[] {13, 14},
          new int[] {15, 16, 17, 18, 19, 20});
      SamplingOptions sampling = SamplingOptions.sampling(32, 7, List.of(), 0);

      double[] full = new double[syncs];
      try (RolloutEngine e = RolloutEngines.open(Backend.ONNX, c, base, o)) {
        e.sample(prompts, sampling); // warm-up
        for (int i = 0; i < syncs; i++) {
          long t0 = System.nanoTime();
          e.sync(base);
          full[i] = (System.nanoTime() - t0) / 1e6;
        }
      }
      System.out.printf("whole-weight sync (new session): median %.1f ms  %s%n", median(full), Arrays.toString(rounded(full)));
      double[] adapter = new double[syncs];
      long t0 = System.nanoTime();
      try (RolloutEngine e = RolloutEngines.open(Backend.ONNX, c, base, o.withLora(lora))) {
        double open = (System.nanoTime() - t0) / 1e6;
        System.out.printf("LoRA engine opened (base weights into its one session) in %.0f ms%n", open);
        e.sync(adapters.get(1));
        e.sample(prompts, sampling); // warm-up
        for (int i = 0; i < syncs; i++) {
          long t1 = System.nanoTime();
          e.sync(adapters.get(i % 2));
          adapter[i] = (System.nanoTime() - t1) / 1e6;
        }
      }
      System.out.printf("adapter-only sync (same session): median %.1f ms  %s%n", median(adapter),
          Arrays.toString(rounded(adapter)));
      // sampling, each engine fresh, plain before and after LoRA to show the machine's drift
      double[] plain = new double[2];
      double loraSample = 0;
      for (int round = 0; round < 3; round++) {
        EngineOptions eo = round == 1 ? o.withLora(lora) : o;
        try (RolloutEngine e = RolloutEngines.open(Backend.ONNX, c, base, eo)) {
          if (round == 1) {
            e.sync(adapters.get(0));
          }
          double ms = timeSample(e, prompts, sampling);
          if (round == 1) {
            loraSample = ms;
          } else {
            plain[round / 2] = ms;
          }
        }
      }
      System.out.printf("sampling 4 prompts x 32 tokens (best of 5): plain %.0f ms, LoRA unmerged %.0f ms, plain again "
          + "%.0f ms%n", plain[0], loraSample, plain[1]);
    } finally {
      if (model != null) {
        model.close();
      }
    }
  }

  private static TensorSource inMemory(ModelConfig c, TensorSource w) {
    java.util.LinkedHashMap<String, dev.rlsr.policy.model.FloatTensor> m = new java.util.LinkedHashMap<>();
    for (String name : w.shapes().keySet()) {
      m.put(name, w.read(name));
    }
    return TensorSource.of(m);
  }

  private static double timeSample(RolloutEngine e, List<int[]> prompts, SamplingOptions o) {
    double best = Double.MAX_VALUE;
    e.sample(prompts, o); // warm-up
    for (int i = 0; i < 5; i++) {
      long t0 = System.nanoTime();
      e.sample(prompts, o);
      best = Math.min(best, (System.nanoTime() - t0) / 1e6);
    }
    return best;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static double[] rounded(double[] v) {
    return Arrays.stream(v).map(x -> Math.round(x * 10) / 10.0).toArray();
  }
}
