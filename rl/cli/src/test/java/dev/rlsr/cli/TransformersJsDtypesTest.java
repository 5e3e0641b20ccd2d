// `rlsr export --dtype all` as transformers.js users load it: each of model.onnx, model_fp16.onnx,
// model_quantized.onnx and model_q4.onnx loads under its dtype name (`from_pretrained(dir, {dtype})`) and gives the
// log-probs plain ONNX Runtime (Java) gives for the same file. Runs where node and an npm install of
// @huggingface/transformers are named by RLSR_NODE_MODULES (a node_modules directory); skipped elsewhere.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.export.ExportDtype;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.Json;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransformersJsDtypesTest {
  static final Path DEMO = Path.of("../../models/demo-base");
  static final Path SCRIPT = Path.of("../../scripts/transformers-js-logprobs.mjs");
  static final String TEXT = "Name a primary color. Red is one of the three primary colors.";

  @TempDir Path tmp;

  @Test
  void everyDtypeLoadsInTransformersJsUnderItsNameAndMatchesOnnxRuntime() throws Exception {
    String modules = System.getenv("RLSR_NODE_MODULES");
    assumeTrue(modules != null && Files.isDirectory(Path.of(modules, "@huggingface", "transformers")),
        "RLSR_NODE_MODULES names no node_modules with @huggingface/transformers");
    Path out = tmp.resolve("served");
    var r = Cli.run("export", "--model", DEMO.toString(), "--out", out.toString(), "--dtype", "all");
    assertThat(r.code()).as(r.err()).isZero();

    ProcessBuilder pb = new ProcessBuilder("node", SCRIPT.toString(), out.toString(), TEXT, "fp32,fp16,q8,q4")
        .redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("NODE_PATH", modules);
    Process p = pb.start();
    p.getOutputStream().close();
    String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(json).isZero();
    JsonNode js = Json.MAPPER.readTree(json);

    ModelConfig c = ModelConfig.read(out.resolve("config.json"));
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    double[] fp32 = null;
    for (ExportDtype d : ExportDtype.values()) {
      JsonNode row = js.get(d.toString());
      long[] ids = new long[row.get("ids").size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = row.get("ids").get(i).asLong();
      }
      double[] ort = logprobs(env, out.resolve(d.fileName()), c, ids);
      double max = 0;
      for (int i = 0; i < ort.length; i++) {
        max = Math.max(max, Math.abs(ort[i] - row.get("logprobs").get(i).asDouble()));
      }
      if (fp32 == null) {
        fp32 = ort;
      }
      double drift = 0;
      for (int i = 0; i < ort.length; i++) {
        drift += Math.abs(ort[i] - fp32[i]) / ort.length;
      }
      System.out.printf("transformers.js %s (%s): max |log-prob - ONNX Runtime Java| %.2e; mean drift from fp32 %.4f%n",
          d, d.fileName(), max, drift);
      assertThat(max).as(d.toString()).isLessThan(d == ExportDtype.Q8 ? 2e-2 : 1e-3);
    }
  }

  /** log p(ids[t+1] | ids[..t]) from plain ONNX Runtime over the exported file. */
  static double[] logprobs(OrtEnvironment env, Path onnx, ModelConfig c, long[] ids) throws Exception {
    Map<String, OnnxTensor> in = new HashMap<>();
    long[] pos = new long[ids.length];
    long[] mask = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      pos[i] = i;
      mask[i] = 1;
    }
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        OrtSession s = env.createSession(onnx.toString(), so)) {
      in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {1, ids.length}));
      in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {1, ids.length}));
      in.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(pos), new long[] {1, ids.length}));
      for (int i = 0; i < c.numLayers(); i++) {
        long[] shape = {1, c.numKvHeads(), 0, c.headDim()};
        in.put("past_key_values." + i + ".key", OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
        in.put("past_key_values." + i + ".value", OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
      }
      try (OrtSession.Result res = s.run(in)) {
        float[][] logits = ((float[][][]) res.get("logits").orElseThrow().getValue())[0];
        double[] out = new double[ids.length - 1];
        for (int t = 0; t + 1 < ids.length; t++) {
          out[t] = LogprobsCommand.logSoftmaxAt(logits[t], 0, logits[t].length, (int) ids[t + 1]);
        }
        return out;
      }
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }
}
