// Bench (not a test): time of a weight sync, i.e. creating an ORT session from the small external-weights proto
// plus direct buffers, against serialising the weights into the proto, for a ~5M-parameter model.
// Run: mvn -q -o -pl export -am test-compile && java -cp "$(cat export/target/bench.cp):export/target/classes:export/target/test-classes:policy/target/classes:policy/target/test-classes" dev.rlsr.export.SessionSyncBench
package dev.rlsr.export;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import java.util.Arrays;
import java.util.Map;

public final class SessionSyncBench {
  public static void main(String[] args) throws Exception {
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    ModelConfig c = ModelConfig.create("llama", 2048, 256, 688, 6, 8, 4, null, false, 10000, 2048, 1, 2);
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
