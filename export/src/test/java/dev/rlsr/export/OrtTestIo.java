// Test helpers: build the policy's ONNX Runtime inputs from int arrays, run, and compare logits with NaiveLlama.
package dev.rlsr.export;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rlsr.policy.model.ModelConfig;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

public final class OrtTestIo {
  private OrtTestIo() {}

  public static OnnxTensor longs(OrtEnvironment env, int[][] a) throws OrtException {
    LongBuffer b = LongBuffer.allocate(a.length * a[0].length);
    for (int[] row : a) {
      for (int v : row) {
        b.put(v);
      }
    }
    b.rewind();
    return OnnxTensor.createTensor(env, b, new long[] {a.length, a[0].length});
  }

  /** Runs the model with an empty past over the given batch; closes everything; returns [B][S][V]. */
  public static float[][][] forward(OrtEnvironment env, OrtSession s, ModelConfig c, int[][] ids, int[][] mask, int[][] pos)
      throws OrtException {
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try {
      in.put("input_ids", longs(env, ids));
      in.put("attention_mask", longs(env, mask));
      in.put("position_ids", longs(env, pos));
      for (int i = 0; i < c.numLayers(); i++) {
        long[] shape = {ids.length, c.numKvHeads(), 0, c.headDim()};
        in.put("past_key_values." + i + ".key", OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
        in.put("past_key_values." + i + ".value", OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
      }
      try (OrtSession.Result r = s.run(in)) {
        return (float[][][]) r.get("logits").orElseThrow().getValue();
      }
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  /** Largest |a - b| over positions where mask == 1. */
  public static double maxAbsDiff(float[][][] a, float[][][] b, int[][] mask) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      for (int t = 0; t < a[i].length; t++) {
        if (mask[i][t] == 0) {
          continue;
        }
        for (int v = 0; v < a[i][t].length; v++) {
          max = Math.max(max, Math.abs(a[i][t][v] - b[i][t][v]));
        }
      }
    }
    return max;
  }

  /** Left-pads prompts of different lengths with {@code pad}; returns {ids, mask}. */
  public static int[][][] leftPad(int[][] prompts, int pad) {
    int len = 0;
    for (int[] p : prompts) {
      len = Math.max(len, p.length);
    }
    int[][] ids = new int[prompts.length][len];
    int[][] mask = new int[prompts.length][len];
    for (int b = 0; b < prompts.length; b++) {
      int off = len - prompts[b].length;
      for (int t = 0; t < len; t++) {
        ids[b][t] = t < off ? pad : prompts[b][t - off];
        mask[b][t] = t < off ? 0 : 1;
      }
    }
    return new int[][][] {ids, mask};
  }
}
