// `rlsr export`: the ONNX directory loads in plain ONNX Runtime and matches the naive reference, the safetensors
// export reloads bit-exactly, `both` has the documented layout, and a non-empty OUT needs --force.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.testing.NaiveLlama;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportCommandTest {
  static final long[][] IDS = {{0, 0, 5, 17, 3}, {8, 2, 33, 12, 7}};
  static final long[][] MASK = {{0, 0, 1, 1, 1}, {1, 1, 1, 1, 1}};
  static final long[][] POS = {{0, 0, 0, 1, 2}, {0, 1, 2, 3, 4}};

  @TempDir Path tmp;

  @Test
  void onnxExportLoadsInPlainOrtAndMatchesNaive() throws Exception {
    ModelConfig c = TinyCheckpoints.llama();
    Path src = TinyCheckpoints.write(tmp.resolve("src"), c, Safetensors.DType.F32, 4);
    Files.writeString(src.resolve("run_config.json"), "{\"learning-rate\": 0.001}");
    Path out = tmp.resolve("out");
    var r = Cli.run("export", "--model", src.toString(), "--out", out.toString(), "--format", "onnx");
    assertThat(r.code()).as(r.err()).isZero();
    for (String f : new String[] {"model.onnx", "config.json", "tokenizer.json", "tokenizer_config.json",
        "generation_config.json", "run_config.json"}) {
      assertThat(out.resolve(f)).isRegularFile();
    }
    assertThat(out.resolve("model.onnx_data")).doesNotExist();   // tiny: weights embedded
    assertThat(Json.MAPPER.readTree(out.resolve("config.json").toFile()).get("model_type").asText()).isEqualTo("llama");
    assertThat(Files.list(tmp).map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("src", "out");

    float[][][] expected;
    try (HfModel m = HfModel.load(src)) {
      expected = NaiveLlama.logits(m.weights(), ints(IDS), ints(MASK), ints(POS));
    }
    // Only ai.onnxruntime and arrays from here on.
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    Map<String, OnnxTensor> in = new HashMap<>();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        OrtSession s = env.createSession(out.resolve("model.onnx").toString(), opts)) {
      in.put("input_ids", longs(env, IDS));
      in.put("attention_mask", longs(env, MASK));
      in.put("position_ids", longs(env, POS));
      for (int i = 0; i < c.numLayers(); i++) {
        long[] shape = {IDS.length, c.numKvHeads(), 0, c.headDim()};
        in.put("past_key_values." + i + ".key", OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
        in.put("past_key_values." + i + ".value", OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
      }
      try (OrtSession.Result res = s.run(in)) {
        float[][][] actual = (float[][][]) res.get("logits").orElseThrow().getValue();
        double max = 0;
        for (int b = 0; b < IDS.length; b++) {
          for (int t = 0; t < IDS[0].length; t++) {
            for (int v = 0; MASK[b][t] == 1 && v < c.vocabSize(); v++) {
              max = Math.max(max, Math.abs(actual[b][t][v] - expected[b][t][v]));
            }
          }
        }
        assertThat(max).isLessThan(1e-4);
      }
      Map<String, String> meta = s.getMetadata().getCustomMetadata();
      assertThat(meta.get("rlsr.export")).contains("\"format\":\"onnx\"");
      assertThat(meta.get("rlsr.run_config")).contains("learning-rate");
    } finally {
      in.values().forEach(OnnxTensor::close);
    }

    // OUT is now non-empty: refused without --force, replaced with it
    var again = Cli.run("export", "--model", src.toString(), "--out", out.toString());
    assertThat(again.code()).isEqualTo(1);
    assertThat(again.err()).contains("--out").contains("--force");
    var forced = Cli.run("export", "--model", src.toString(), "--out", out.toString(), "--format", "safetensors", "--force");
    assertThat(forced.code()).as(forced.err()).isZero();
    assertThat(out.resolve("model.onnx")).doesNotExist();
    assertThat(out.resolve("model.safetensors")).isRegularFile();
  }

  @Test
  void dtypesWriteTheirFilesBesideOneAnotherAndBadCombinationsAreRefused() throws Exception {
    ModelConfig c = TinyCheckpoints.qwen2();
    Path src = TinyCheckpoints.write(tmp.resolve("src"), c, Safetensors.DType.F32, 4);
    Path out = tmp.resolve("q");
    var r = Cli.run("export", "--model", src.toString(), "--out", out.toString(), "--dtype", "q4,fp32",
        "--dtype", "q8", "--q4-block-size", "16", "--quantize-lm-head");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("q4 model_q4.onnx, fp32 model.onnx, q8 model_quantized.onnx");
    assertThat(out.resolve("model_fp16.onnx")).doesNotExist();
    JsonNode qc = Json.MAPPER.readTree(out.resolve("quantize_config.json").toFile()).get("files");
    assertThat(qc.get("model_q4.onnx").get("block_size").asInt()).isEqualTo(16);
    assertThat(qc.get("model_q4.onnx").get("quantize_lm_head").asBoolean()).isTrue();
    assertThat(qc.get("model_quantized.onnx").get("dtype").asText()).isEqualTo("q8");
    assertThat(qc.get("model.onnx").get("weights").asText()).isEqualTo("float32");
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    for (String f : new String[] {"model.onnx", "model_quantized.onnx", "model_q4.onnx"}) {
      try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
          OrtSession s = env.createSession(out.resolve(f).toString(), opts)) {
        assertThat(s.getOutputNames()).contains("logits", "present.1.value");
        assertThat(s.getMetadata().getCustomMetadata().get("rlsr.export")).contains("\"weights_dtype\"");
      }
    }
    var all = Cli.run("export", "--model", src.toString(), "--out", tmp.resolve("all").toString(), "--format", "both",
        "--dtype", "all");
    assertThat(all.code()).as(all.err()).isZero();
    for (String f : new String[] {"model.onnx", "model_fp16.onnx", "model_quantized.onnx", "model_q4.onnx"}) {
      assertThat(tmp.resolve("all").resolve("onnx").resolve(f)).isRegularFile();
    }

    String[][] refused = {
        {"--dtype", "int3", "error: --dtype \"int3\" is not known: use fp32, fp16, q8 or q4 (or all)"},
        {"--format", "safetensors", "--dtype", "q8", "error: --dtype applies to the ONNX files (--format onnx or both); "
            + "--format safetensors writes float32 safetensors"},
        {"--dtype", "fp16", "--quantize-lm-head", "error: --quantize-lm-head needs a quantized --dtype (q8 or q4)"},
        {"--dtype", "q4", "--q4-block-size", "24",
            "error: --q4-block-size must be a power of two of at least 16 (MatMulNBits), got 24"}};
    for (String[] args : refused) {
      Path o = tmp.resolve("refused");
      String[] cmd = new String[args.length + 3];
      cmd[0] = "export";
      cmd[1] = "--model";
      cmd[2] = src.toString();
      cmd[3] = "--out=" + o;
      System.arraycopy(args, 0, cmd, 4, args.length - 1);
      var x = Cli.run(cmd);
      assertThat(x.code()).isEqualTo(1);
      assertThat(x.err()).isEqualTo(args[args.length - 1] + System.lineSeparator());
      assertThat(o).doesNotExist();
    }
  }

  @Test
  void safetensorsAndBothReloadBitExactly() throws Exception {
    Path src = TinyCheckpoints.write(tmp.resolve("src"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 9);
    Path out = tmp.resolve("both");
    var r = Cli.run("export", "--model", src.toString(), "--out", out.toString(), "--format", "both");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(out.resolve("onnx/model.onnx")).isRegularFile();
    assertThat(out.resolve("onnx/config.json")).isRegularFile();
    assertThat(out.resolve("onnx/tokenizer.json")).isRegularFile();
    try (HfModel a = HfModel.load(src); HfModel b = HfModel.load(out)) {
      assertThat(b.weights().tensors().keySet()).isEqualTo(a.weights().tensors().keySet());
      for (var e : a.weights().tensors().entrySet()) {
        FloatTensor t = b.weights().tensors().get(e.getKey());
        assertThat(t.shape()).containsExactly(e.getValue().shape());
        assertThat(t.data()).containsExactly(e.getValue().data());
      }
      assertThat(b.tokenizer().chatTemplate()).isEqualTo(a.tokenizer().chatTemplate());
    }
  }

  private static OnnxTensor longs(OrtEnvironment env, long[][] a) throws Exception {
    LongBuffer b = LongBuffer.allocate(a.length * a[0].length);
    for (long[] row : a) {
      b.put(row);
    }
    return OnnxTensor.createTensor(env, b.rewind(), new long[] {a.length, a[0].length});
  }

  private static int[][] ints(long[][] a) {
    int[][] out = new int[a.length][];
    for (int i = 0; i < a.length; i++) {
      out[i] = java.util.Arrays.stream(a[i]).mapToInt(Math::toIntExact).toArray();
    }
    return out;
  }
}
