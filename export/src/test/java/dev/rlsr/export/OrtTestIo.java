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
    return forward(env, s, c, ids, mask, pos, Map.of());
  }

  /** {@link #forward(OrtEnvironment, OrtSession, ModelConfig, int[][], int[][], int[][])} feeding {@code extra} too (borrowed). */
  public static float[][][] forward(OrtEnvironment env, OrtSession s, ModelConfig c, int[][] ids, int[][] mask, int[][] pos,
      Map<String, OnnxTensor> extra) throws OrtException {
    return forward(env, s, c, ids, mask, pos, extra, null);
  }

  /** {@link #forward(OrtEnvironment, OrtSession, ModelConfig, int[][], int[][], int[][])} with run options. */
  public static float[][][] forward(OrtEnvironment env, OrtSession s, ModelConfig c, int[][] ids, int[][] mask, int[][] pos,
      OrtSession.RunOptions runOptions) throws OrtException {
    return forward(env, s, c, ids, mask, pos, Map.of(), runOptions);
  }

  private static float[][][] forward(OrtEnvironment env, OrtSession s, ModelConfig c, int[][] ids, int[][] mask,
      int[][] pos, Map<String, OnnxTensor> extra, OrtSession.RunOptions runOptions) throws OrtException {
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
      Map<String, OnnxTensor> all = new LinkedHashMap<>(in);
      all.putAll(extra);
      try (OrtSession.Result r = runOptions == null ? s.run(all) : s.run(all, runOptions)) {
        return (float[][][]) r.get("logits").orElseThrow().getValue();
      }
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  /** What a test checks after each run of {@link #decodeWithCache}: the run covered tokens [from, from + len). */
  public interface CacheStep {
    void check(int from, int len, OrtSession.Result result) throws OrtException;
  }

  /**
   * Feeds rows [B][T] through {@code session} with the KV cache, as the sampler does: the first {@code prefill}
   * tokens with an empty past, then one token per run with the previous run's {@code present.*} as the past and the
   * mask of every token seen so far; {@code step} checks each run's result before the next one replaces it.
   */
  public static void decodeWithCache(OrtEnvironment env, OrtSession session, ModelConfig c, int[][] ids,
      int[][] mask, int[][] pos, int prefill, CacheStep step) throws OrtException {
    int total = ids[0].length;
    OrtSession.Result previous = null;
    try {
      int done = 0;
      while (done < total) {
        int len = done == 0 ? prefill : 1;
        Map<String, OnnxTensor> owned = new LinkedHashMap<>();
        owned.put("input_ids", longs(env, slice(ids, done, len)));
        owned.put("attention_mask", longs(env, slice(mask, 0, done + len)));
        owned.put("position_ids", longs(env, slice(pos, done, len)));
        Map<String, OnnxTensor> in = new LinkedHashMap<>(owned);
        for (int i = 0; i < c.numLayers(); i++) {
          for (String kv : new String[] {"key", "value"}) {
            String name = "past_key_values." + i + "." + kv;
            if (previous == null) {
              OnnxTensor empty = OnnxTensor.createTensor(env, FloatBuffer.allocate(0),
                  new long[] {ids.length, c.numKvHeads(), 0, c.headDim()});
              owned.put(name, empty);
              in.put(name, empty);
            } else {
              in.put(name, (OnnxTensor) previous.get("present." + i + "." + kv).orElseThrow());
            }
          }
        }
        OrtSession.Result r;
        try {
          r = session.run(in);
        } finally {
          owned.values().forEach(OnnxTensor::close);
        }
        if (previous != null) {
          previous.close();
        }
        previous = r;
        step.check(done, len, r);
        done += len;
      }
    } finally {
      if (previous != null) {
        previous.close();
      }
    }
  }

  /** Columns [from, from + len) of every row. */
  public static int[][] slice(int[][] a, int from, int len) {
    int[][] out = new int[a.length][];
    for (int b = 0; b < a.length; b++) {
      out[b] = java.util.Arrays.copyOfRange(a[b], from, from + len);
    }
    return out;
  }

  /** Largest |a - b| over positions where mask == 1. */
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
