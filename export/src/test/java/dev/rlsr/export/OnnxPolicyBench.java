// Bench (not a test) on a ~5M-parameter model: weight-sync time (ORT session from the small external-weights proto
// plus direct buffers) against serialising the weights into the proto, and rollout throughput of OrtSampler.
// Run: mvn -q -o -pl export -am test-compile, then java -cp <test classpath of export> dev.rlsr.export.OnnxPolicyBench [reps] [threads]
package dev.rlsr.export;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.runtime.OnnxPolicySession;
import dev.rlsr.export.runtime.OnnxPolicySessions;
import dev.rlsr.export.runtime.OrtSampler;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.rollout.SamplingOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

public final class OnnxPolicyBench {
  public static void main(String[] args) throws Exception {
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    ModelConfig c = ModelConfig.builder("llama").vocabSize(2048).hiddenSize(256).intermediateSize(688).layers(6)
        .heads(8).kvHeads(4).tied(false).ropeTheta(10000).maxPositions(2048).bosId(1).eosId(2).build();
    ModelWeights w = ModelWeights.random(c, 1);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    System.out.printf("model: %,d parameters, %d threads%n", w.parameterCount(), threads);

    long t0 = System.nanoTime();
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of());
    System.out.printf("buildWithExternalWeights: %.1f ms, %,d bytes (once per config)%n", (System.nanoTime() - t0) / 1e6, proto.length);

    double[] sync = new double[reps];
    double[] embedded = new double[reps];
    for (int r = 0; r < reps; r++) {
      long a = System.nanoTime();
      try (OnnxPolicySession s = OnnxPolicySessions.create(env, proto, w, threads, "cpu")) {
        sync[r] = (System.nanoTime() - a) / 1e6;
      }
      long b = System.nanoTime();
      byte[] full = OnnxPolicyExporter.buildEmbedded(w, Map.of()).toByteArray();
      try (OrtSession.SessionOptions opts = OnnxPolicySessions.options(threads, "cpu");
           OrtSession s = env.createSession(full, opts)) {
        embedded[r] = (System.nanoTime() - b) / 1e6;
      }
    }
    System.out.printf("sync (proto + direct buffers + addExternalInitializers + createSession): median %.1f ms, all %s%n",
        median(sync), fmt(sync));
    System.out.printf("weights serialised into the proto + createSession:                    median %.1f ms, all %s%n",
        median(embedded), fmt(embedded));

    // Rollouts: 16 prompts of 8..23 tokens, 64 new tokens each, no stop token.
    List<int[]> prompts = new ArrayList<>();
    SplittableRandom rng = new SplittableRandom(2);
    for (int b = 0; b < 16; b++) {
      prompts.add(rng.ints(8 + b, 3, c.vocabSize()).toArray());
    }
    for (OnnxPolicyExporter.Logits which : OnnxPolicyExporter.Logits.values()) {
      byte[] rolloutProto = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of(), which);
      try (OnnxPolicySession s = OnnxPolicySessions.create(env, rolloutProto, w, threads, "cpu")) {
        OrtSampler sampler = new OrtSampler(env, s.session(), c);
        for (SamplingOptions o : List.of(SamplingOptions.greedy(64, List.of(), 0),
            SamplingOptions.sampling(64, 1, List.of(), 0).withTopP(0.9).withTemperature(0.8))) {
          sampler.sample(prompts, o);   // warm-up
          double[] tps = new double[Math.max(3, reps / 3)];
          for (int r = 0; r < tps.length; r++) {
            long a = System.nanoTime();
            int n = sampler.sample(prompts, o).stream().mapToInt(x -> x.tokens().length).sum();
            tps[r] = n / ((System.nanoTime() - a) / 1e9);
          }
          System.out.printf("rollouts batch 16 x 64 new tokens (%s, logits %s): median %.0f tokens/s, all %s%n",
              o.greedy() ? "greedy" : "top-p 0.9, T 0.8", which, median(tps), fmt(tps));
        }
      }
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static String fmt(double[] v) {
    return Arrays.toString(Arrays.stream(v).map(x -> Math.round(x * 10) / 10.0).toArray());
  }
}
