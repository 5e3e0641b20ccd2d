// After LoRA training through the CLI, the three ways to run the adapter agree on logits to 1e-4: unmerged in the
// TensorFlow graph, applied by ONNX Runtime to the base (`export --format onnx-adapter`: model.onnx plus
// adapter.onnx_adapter in plain ONNX Runtime), and merged (`export --format onnx` of the adapter directory). A second
// adapter swaps into the same session; generate and eval on the adapter directory answer as the merged model.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoraAdapter;
import ai.onnxruntime.OrtSession;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.graph.PolicyGraph;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.testing.NaiveLlama;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraServingPathsTest {
  static final int[][] IDS = {{0, 0, 5, 17, 3, 40}, {8, 2, 33, 12, 7, 1}};
  static final int[][] MASK = {{0, 0, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}};
  static final int[][] POS = NaiveLlama.positionsFromMask(MASK);
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  @TempDir Path tmp;

  @Test
  void tensorflowOnnxRuntimeAdapterAndMergedAgreeAfterTraining() throws Exception {
    ModelConfig c = TinyCheckpoints.qwen2();
    Path base = TinyCheckpoints.write(tmp.resolve("base"), c, Safetensors.DType.F32, 21);
    Path data = tmp.resolve("data.jsonl");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      sb.append("{\"prompt\": \"Name color ").append(i % 4).append("\", \"response\": \"")
          .append(List.of("red", "green", "blue", "gold").get(i % 4)).append(" it is\"}\n");
    }
    Files.writeString(data, sb.toString());
    Path run = tmp.resolve("sft");
    var r = Cli.run("sft", "--model", base.toString(), "--data", data.toString(), "--out", run.toString(),
        "--max-steps", "10", "--batch-size", "4", "--learning-rate", "2e-2", "--max-seq-len", "64", "--threads", "1",
        "--lora-r", "4", "--save-every", "5");
    assertThat(r.code()).as(r.err()).isZero();
    Path ckpt;
    try (Stream<Path> s = Files.list(run.resolve(Checkpoints.DIR))) {
      ckpt = s.filter(Files::isDirectory).sorted().findFirst().orElseThrow(); // step 5: another adapter
    }

    Path served = tmp.resolve("served");
    var e = Cli.run("export", "--model", run.toString(), "--out", served.toString(), "--format", "onnx-adapter");
    assertThat(e.code()).as(e.err()).isZero();
    assertThat(served.resolve("model.onnx")).isRegularFile();
    assertThat(served.resolve("adapter.onnx_adapter")).isRegularFile();
    assertThat(Json.MAPPER.readTree(served.resolve("config.json").toFile()).get("model_type").asText())
        .isEqualTo("qwen2");
    Path servedMid = tmp.resolve("served-mid");
    assertThat(Cli.run("export", "--model", ckpt.toString(), "--out", servedMid.toString(), "--format",
        "onnx-adapter").code()).isZero();
    Path merged = tmp.resolve("merged");
    assertThat(Cli.run("export", "--model", run.toString(), "--out", merged.toString(), "--format", "onnx").code())
        .isZero();

    float[][][] tf;
    float[][][] tfMid;
    float[][][] tfBase;
    float[][][] naiveMerged;
    try (HfModel m = HfModel.load(run); HfModel mid = HfModel.load(ckpt)) {
      PolicyGraph.Options o = PolicyGraph.Options.inference(1).withLora(m.adapter().lora(), 0);
      try (PolicyGraph g = PolicyGraph.create(m.config(), m.baseTensors(), o, List.of())) {
        g.setAdapter(m.adapterTensors());
        tf = shape(g.logits(IDS, MASK, POS), c);
        tfBase = shape(g.logits(IDS, MASK, POS, true), c);
        g.setAdapter(mid.adapterTensors());
        tfMid = shape(g.logits(IDS, MASK, POS), c);
      }
      naiveMerged = NaiveLlama.logits(m.weights(), IDS, MASK, POS);
    }

    // Only ai.onnxruntime and the exported files from here on.
    float[][][] ortAdapter;
    float[][][] ortMid;
    float[][][] ortBase;
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        OrtSession s = ENV.createSession(served.resolve("model.onnx").toString(), so)) {
      ortBase = run(s, c, null);
      try (OrtLoraAdapter a = OrtLoraAdapter.create(served.resolve("adapter.onnx_adapter").toString());
          OrtLoraAdapter b = OrtLoraAdapter.create(servedMid.resolve("adapter.onnx_adapter").toString());
          OrtSession.RunOptions ra = new OrtSession.RunOptions();
          OrtSession.RunOptions rb = new OrtSession.RunOptions()) {
        ra.addActiveLoraAdapter(a);
        rb.addActiveLoraAdapter(b);
        ortAdapter = run(s, c, ra);
        ortMid = run(s, c, rb);
      }
    }
    float[][][] ortMerged;
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        OrtSession s = ENV.createSession(merged.resolve("model.onnx").toString(), so)) {
      ortMerged = run(s, c, null);
    }

    System.out.printf("LoRA after training, max |logit diff|: TF unmerged vs ORT adapter %.2e, vs merged export %.2e,"
        + " ORT adapter vs merged export %.2e; adapter vs base %.2e%n", diff(tf, ortAdapter), diff(tf, ortMerged),
        diff(ortAdapter, ortMerged), diff(tf, tfBase));
    assertThat(diff(tf, ortAdapter)).as("TensorFlow unmerged vs ONNX Runtime adapter").isLessThan(1e-4);
    assertThat(diff(tf, ortMerged)).as("TensorFlow unmerged vs merged export").isLessThan(1e-4);
    assertThat(diff(ortAdapter, ortMerged)).as("ONNX Runtime adapter vs merged export").isLessThan(1e-4);
    assertThat(diff(tf, naiveMerged)).as("TensorFlow unmerged vs naive merged").isLessThan(1e-4);
    assertThat(diff(tfMid, ortMid)).as("the step-5 adapter swapped into the same session").isLessThan(1e-4);
    assertThat(diff(tfBase, ortBase)).as("adapter off vs model.onnx alone").isLessThan(1e-4);
    // the adapters moved: each path differs from the base and from the other adapter
    assertThat(diff(tf, tfBase)).isGreaterThan(1e-3);
    assertThat(diff(tf, tfMid)).isGreaterThan(1e-4);

    // generate and eval take the adapter directory as --model and answer as the merged model does
    Path mergedDir = tmp.resolve("merged-st");
    assertThat(Cli.run("export", "--model", run.toString(), "--out", mergedDir.toString(), "--format",
        "safetensors").code()).isZero();
    for (String backend : List.of("onnx", "tf")) {
      String[] gen = {"generate", "--data", data.toString(), "--greedy", "--max-new-tokens", "6", "--threads", "1",
          "--backend", backend, "--model"};
      var viaAdapter = Cli.run(concat(gen, run.toString()));
      var viaMerged = Cli.run(concat(gen, mergedDir.toString()));
      assertThat(viaAdapter.code()).as(viaAdapter.err()).isZero();
      assertThat(viaAdapter.out()).isEqualTo(viaMerged.out()).hasLineCount(16);
    }
    for (Path m : List.of(run, mergedDir)) {
      var ev = Cli.run("eval", "--model", m.toString(), "--data", data.toString(), "--limit", "3", "--max-new-tokens",
          "6", "--threads", "1", "--out", tmp.resolve("eval-" + m.getFileName() + ".jsonl").toString());
      assertThat(ev.code()).as(ev.err()).isZero();
    }
    List<String> a = Files.readAllLines(tmp.resolve("eval-sft.jsonl"));
    List<String> b = Files.readAllLines(tmp.resolve("eval-merged-st.jsonl"));
    assertThat(a).hasSize(3);
    for (int i = 0; i < a.size(); i++) {
      assertThat(Json.MAPPER.readTree(a.get(i)).get("response"))
          .isEqualTo(Json.MAPPER.readTree(b.get(i)).get("response"));
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static float[][][] run(OrtSession s, ModelConfig c, OrtSession.RunOptions ro) throws Exception {
    Map<String, OnnxTensor> in = new HashMap<>();
    try {
      in.put("input_ids", longs(IDS));
      in.put("attention_mask", longs(MASK));
      in.put("position_ids", longs(POS));
      for (int i = 0; i < c.numLayers(); i++) {
        long[] shape = {IDS.length, c.numKvHeads(), 0, c.headDim()};
        in.put("past_key_values." + i + ".key", OnnxTensor.createTensor(ENV, FloatBuffer.allocate(0), shape));
        in.put("past_key_values." + i + ".value", OnnxTensor.createTensor(ENV, FloatBuffer.allocate(0), shape));
      }
      try (OrtSession.Result res = ro == null ? s.run(in) : s.run(in, ro)) {
        return (float[][][]) res.get("logits").orElseThrow().getValue();
      }
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  private static OnnxTensor longs(int[][] a) throws Exception {
    LongBuffer b = LongBuffer.allocate(a.length * a[0].length);
    for (int[] row : a) {
      for (int v : row) {
        b.put(v);
      }
    }
    return OnnxTensor.createTensor(ENV, b.rewind(), new long[] {a.length, a[0].length});
  }

  private static float[][][] shape(float[] flat, ModelConfig c) {
    int t = IDS[0].length;
    int v = c.vocabSize();
    float[][][] out = new float[IDS.length][t][v];
    for (int b = 0; b < IDS.length; b++) {
      for (int i = 0; i < t; i++) {
        System.arraycopy(flat, (b * t + i) * v, out[b][i], 0, v);
      }
    }
    return out;
  }

  /** Max |x - y| over the positions the mask keeps. */
  private static double diff(float[][][] x, float[][][] y) {
    double max = 0;
    for (int b = 0; b < x.length; b++) {
      for (int t = 0; t < x[0].length; t++) {
        for (int v = 0; MASK[b][t] == 1 && v < x[0][0].length; v++) {
          max = Math.max(max, Math.abs(x[b][t][v] - y[b][t][v]));
        }
      }
    }
    return max;
  }
}
