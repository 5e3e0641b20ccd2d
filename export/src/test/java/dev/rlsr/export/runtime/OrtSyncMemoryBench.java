// Bench (not a test): process memory (VmRSS, and VmHWM peaks reset before each stage) of ONNX Runtime weight-sync
// sessions on a real model directory, with the direct weight buffers freed after creation (rlsr) or kept alive for
// the session's life (the way it was), and for a sync that closes the old session first or last; and what prepacking
// costs a sync (fill and create seconds) and buys the rollouts (KV-cache decode speed).
// Run: mvn -q -o -pl export -am test-compile, then
//   java -cp <test classpath of export> dev.rlsr.export.runtime.OrtSyncMemoryBench MODEL_DIR [threads]
package dev.rlsr.export.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.Device;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.OrtTestIo;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.rollout.SamplingOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class OrtSyncMemoryBench {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private static final int[][] IDS = {{1, 2, 3, 4, 5, 6, 7, 8}};
  private static final int[][] MASK = {{1, 1, 1, 1, 1, 1, 1, 1}};
  private static final int[][] POS = {{0, 1, 2, 3, 4, 5, 6, 7}};
  /** 16 prompts of 64 ids (below every vocabulary here) for the decode timing. */
  private static final List<int[]> DECODE_PROMPTS = decodePrompts();

  private static List<int[]> decodePrompts() {
    List<int[]> out = new ArrayList<>();
    for (int r = 0; r < 16; r++) {
      int[] p = new int[64];
      for (int i = 0; i < p.length; i++) {
        p[i] = 1 + (37 * r + 11 * i) % 1000;
      }
      out.add(p);
    }
    return out;
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    try (HfModel m = HfModel.load(dir)) {
      ModelConfig c = m.config();
      TensorSource w = m.tensors();
      double copy = w.numel() * 4 / 1e9;
      byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(c, Map.of(), OnnxPolicyExporter.Logits.LAST);
      System.out.printf("%s: %,d parameters, one float32 copy = %.2f GB%n", dir, w.numel(), copy);
      stage("start");

      // rlsr: buffers filled from the file source, freed right after createSession
      for (int i = 0; i < 2; i++) {
        resetPeak();
        OnnxPolicySession s = OnnxPolicySessions.create(ENV, proto, c, w, threads, Device.CPU);
        stage("freed buffers: session " + i + " created");
        OrtTestIo.forward(ENV, s.session(), c, IDS, MASK, POS);
        stage("freed buffers: after a forward pass");
        s.close();
        stage("freed buffers: session closed");
      }

      // the way it was: direct buffers alive as long as the session
      resetPeak();
      List<OnnxTensor> kept = new ArrayList<>();
      Map<String, OnnxTensorLike> init = new LinkedHashMap<>();
      for (var e : ModelWeights.layout(c).entrySet()) {
        FloatBuffer b = ByteBuffer.allocateDirect((int) (FloatTensor.numel(e.getValue()) * 4))
            .order(ByteOrder.nativeOrder()).asFloatBuffer();
        w.readInto(e.getKey(), b);
        b.rewind();
        OnnxTensor t = OnnxTensor.createTensor(ENV, b, e.getValue());
        kept.add(t);
        init.put(e.getKey(), t);
      }
      stage("kept buffers: filled");
      OrtSession.SessionOptions opts = OnnxPolicySessions.options(threads, Device.CPU);
      opts.addExternalInitializers(init);
      OrtSession ks = ENV.createSession(proto, opts);
      stage("kept buffers: session created");
      OrtTestIo.forward(ENV, ks, c, IDS, MASK, POS);
      stage("kept buffers: after a forward pass");
      ks.close();
      opts.close();
      kept.forEach(OnnxTensor::close);
      kept.clear();
      init.clear();
      System.gc();
      Thread.sleep(500);
      stage("kept buffers: closed, collected");

      // a sync: new session up before the old one goes, or the old one closed first
      OnnxPolicySession old = OnnxPolicySessions.create(ENV, proto, c, w, threads, Device.CPU);
      OrtTestIo.forward(ENV, old.session(), c, IDS, MASK, POS);
      resetPeak();
      OnnxPolicySession next = OnnxPolicySessions.create(ENV, proto, c, w, threads, Device.CPU);
      old.close();
      stage("sync, new session first");
      OrtTestIo.forward(ENV, next.session(), c, IDS, MASK, POS);
      resetPeak();
      next.close();
      OnnxPolicySession again = OnnxPolicySessions.create(ENV, proto, c, w, threads, Device.CPU);
      stage("sync, old session closed first");
      again.close();

      // prepacking: ONNX Runtime keeps a packed copy of constant Gemm operands (lm_head: the tied embedding matrix)
      int[][] ids = {{1}, {2}, {3}, {4}};
      int[][] mask = {{1}, {1}, {1}, {1}};
      int[][] pos = {{0}, {0}, {0}, {0}};
      for (boolean prepack : new boolean[] {true, false}) {
        System.gc();
        Thread.sleep(300);
        resetPeak();
        OrtSession.SessionOptions o = OnnxPolicySessions.options(threads, Device.CPU);
        if (!prepack) {
          o.addConfigEntry("session.disable_prepacking", "1");
        }
        long t0 = System.nanoTime();
        List<ByteBuffer> mem = new ArrayList<>();
        Map<String, OnnxTensorLike> in = new LinkedHashMap<>();
        List<OnnxTensor> ts = new ArrayList<>();
        for (var e : ModelWeights.layout(c).entrySet()) {
          ByteBuffer bb = dev.rlsr.policy.util.NativeBuffers.allocate(FloatTensor.numel(e.getValue()) * 4);
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
        OrtSession ps = ENV.createSession(proto, o);
        long t2 = System.nanoTime();
        ts.forEach(OnnxTensor::close);
        mem.forEach(dev.rlsr.policy.util.NativeBuffers::free);
        stage(String.format("prepacking %s: created (fill %.2f s, create %.2f s), buffers freed", prepack ? "on" : "off",
            (t1 - t0) / 1e9, (t2 - t1) / 1e9));
        OrtTestIo.forward(ENV, ps, c, ids, mask, pos);
        long t3 = System.nanoTime();
        for (int i = 0; i < 20; i++) {
          OrtTestIo.forward(ENV, ps, c, ids, mask, pos);
        }
        stage(String.format("prepacking %s: %.1f ms per 4x1-token step", prepack ? "on" : "off",
            (System.nanoTime() - t3) / 20 / 1e6));
        // what rollouts see: KV-cache greedy decoding of 16 rows, 64 prompt + 64 new tokens
        OrtSampler sampler = new OrtSampler(ENV, ps, c);
        sampler.sample(DECODE_PROMPTS.subList(0, 2), SamplingOptions.greedy(4, List.of(), 0)); // warm-up
        long t4 = System.nanoTime();
        sampler.sample(DECODE_PROMPTS, SamplingOptions.greedy(64, List.of(), 0));
        double decode = (System.nanoTime() - t4) / 1e9;
        stage(String.format("prepacking %s: 16 x (64 + 64) greedy %.2f s = %.1f new tokens/s", prepack ? "on" : "off",
            decode, 16 * 64 / decode));
        ps.close();
        o.close();
      }
    }
  }

  private static void stage(String what) throws Exception {
    Map<String, Long> st = status();
    System.out.printf("%-44s VmRSS %6.2f GB   peak since reset %6.2f GB%n", what, st.get("VmRSS") / 1e6,
        st.get("VmHWM") / 1e6);
  }

  /** Resets VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs). */
  private static void resetPeak() throws Exception {
    Files.writeString(Path.of("/proc/self/clear_refs"), "5");
  }

  private static Map<String, Long> status() throws Exception {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      String[] kv = line.split(":\\s+");
      if (kv.length == 2 && kv[1].endsWith(" kB")) {
        out.put(kv[0], Long.parseLong(kv[1].replace(" kB", "").trim()));
      }
    }
    return out;
  }
}
