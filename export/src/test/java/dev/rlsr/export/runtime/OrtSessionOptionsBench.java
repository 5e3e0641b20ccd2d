// Bench (not a test): what ONNX Runtime's session options cost a weight sync and buy the rollouts, on a real model
// directory: seconds to fill the weight buffers and create the session, the session's resident memory, decode speed.
// Run: mvn -q -o -pl export -am test-compile, then
//   java -cp <test classpath of export> dev.rlsr.export.runtime.OrtSessionOptionsBench MODEL_DIR [threads]
package dev.rlsr.export.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.Device;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.util.NativeBuffers;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class OrtSessionOptionsBench {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    String[][] variants = {{"default"}, {"no prepacking", "session.disable_prepacking", "1"}};
    try (HfModel m = HfModel.load(dir)) {
      ModelConfig c = m.config();
      TensorSource w = m.tensors();
      byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of(), OnnxPolicyExporter.Logits.LAST);
      List<int[]> prompts = new ArrayList<>();
      for (int r = 0; r < 16; r++) {
        int[] p = new int[64];
        for (int i = 0; i < p.length; i++) {
          p[i] = 1000 + 37 * r + 11 * i;
        }
        prompts.add(p);
      }
      SamplingOptions greedy = SamplingOptions.greedy(64, List.of(), 0);
      for (int round = 0; round < 2; round++) {
        for (String[] v : variants) {
          System.gc();
          Thread.sleep(300);
          long before = rss();
          OrtSession.SessionOptions o = OnnxPolicySessions.options(threads, Device.CPU);
          for (int i = 1; i + 1 < v.length; i += 2) {
            o.addConfigEntry(v[i], v[i + 1]);
          }
          long t0 = System.nanoTime();
          List<ByteBuffer> mem = new ArrayList<>();
          Map<String, OnnxTensorLike> in = new LinkedHashMap<>();
          List<OnnxTensor> ts = new ArrayList<>();
          for (var e : ModelWeights.layout(c).entrySet()) {
            ByteBuffer bb = NativeBuffers.allocate(FloatTensor.numel(e.getValue()) * 4);
            mem.add(bb);
            FloatBuffer b = bb.asFloatBuffer();
            w.readInto(e.getKey(), b);
            b.rewind();
            OnnxTensor t = OnnxTensor.createTensor(ENV, b, e.getValue());
            ts.add(t);
            in.put(e.getKey(), t);
          }
          o.addExternalInitializers(in);
          long t1 = System.nanoTime();
          OrtSession s = ENV.createSession(proto, o);
          long t2 = System.nanoTime();
          ts.forEach(OnnxTensor::close);
          mem.forEach(NativeBuffers::free);
          long session = rss() - before;
          OrtSampler sampler = new OrtSampler(ENV, s, c);
          sampler.sample(prompts.subList(0, 2), SamplingOptions.greedy(4, List.of(), 0)); // warm-up
          long t3 = System.nanoTime();
          sampler.sample(prompts, greedy);
          double decode = (System.nanoTime() - t3) / 1e9;
          System.out.printf("round %d %-14s fill %5.2f s, create %5.2f s, session RSS %5.2f GiB, 16 x (64 + 64) "
                  + "greedy %6.2f s = %6.1f new tokens/s%n", round, v[0], (t1 - t0) / 1e9, (t2 - t1) / 1e9,
              session / (double) (1L << 30), decode, 16 * 64 / decode);
          s.close();
          o.close();
        }
      }
    }
  }

  private static long rss() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }
}
