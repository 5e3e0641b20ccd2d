// One full forward pass of an ONNX policy session with an empty KV cache: logits for scoring (rlsr logprobs) and
// for recompute-every-step generation (the no-cache baseline of rlsr bench generate).
package dev.rlsr.export.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.PolicyIo;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.rollout.RecomputeGenerator;
import dev.rlsr.policy.util.RlsrException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/** Runs sessions with the I/O of {@link PolicyIo}; every tensor and result is closed before returning. */
public final class OnnxForward {
  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelConfig config;
  private final OrtSession.RunOptions runOptions; // null: plain runs

  public OnnxForward(OrtEnvironment env, OrtSession session, ModelConfig config) {
    this(env, session, config, null);
  }

  /** Forward passes whose runs use {@code runOptions} (borrowed; null: none), e.g. with an active LoRA adapter. */
  public OnnxForward(OrtEnvironment env, OrtSession session, ModelConfig config, OrtSession.RunOptions runOptions) {
    this.env = env;
    this.session = session;
    this.config = config;
    this.runOptions = runOptions;
  }

  /** Logits of rows [B][T] (no padding needed: mask and positions as given), [B * P * V] with P = T or 1 (LAST graphs). */
  public float[] logits(int[][] ids, int[][] attention, int[][] positions) {
    int batch = ids.length;
    int len = ids[0].length;
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try {
      in.put(PolicyIo.INPUT_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(flat(ids)), new long[] {batch, len}));
      in.put(PolicyIo.ATTENTION_MASK, OnnxTensor.createTensor(env, LongBuffer.wrap(flat(attention)), new long[] {batch, len}));
      in.put(PolicyIo.POSITION_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(flat(positions)), new long[] {batch, len}));
      for (int i = 0; i < config.numLayers(); i++) {
        for (String name : new String[] {PolicyIo.pastKey(i), PolicyIo.pastValue(i)}) {
          in.put(name, OnnxTensor.createTensor(env, FloatBuffer.allocate(0),
              new long[] {batch, config.numKvHeads(), 0, config.headDim()}));
        }
      }
      java.util.Set<String> wanted = java.util.Set.of(PolicyIo.LOGITS);
      try (OrtSession.Result r = runOptions == null ? session.run(in, wanted) : session.run(in, wanted, runOptions)) {
        OnnxTensor t = (OnnxTensor) r.get(PolicyIo.LOGITS).orElseThrow();
        FloatBuffer buf = t.getFloatBuffer();
        float[] out = new float[buf.remaining()];
        buf.get(out);
        return out;
      }
    } catch (OrtException e) {
      throw new RlsrException("ONNX Runtime failed in a forward pass of the policy: " + e.getMessage(), e);
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  /** Logits of the last position of every row, [B * V], for graphs with all or last-position logits. */
  public float[] lastLogits(int[][] ids, int[][] attention, int[][] positions) {
    float[] all = logits(ids, attention, positions);
    int batch = ids.length;
    int vocab = config.vocabSize();
    int perRow = all.length / batch;
    if (perRow == vocab) {
      return all;
    }
    float[] last = new float[batch * vocab];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(all, b * perRow + perRow - vocab, last, b * vocab, vocab);
    }
    return last;
  }

  /** Generation that feeds the whole sequence with an empty past every step (the no-KV-cache baseline). */
  public RecomputeGenerator recomputeGenerator() {
    return new RecomputeGenerator(config, this::lastLogits);
  }

  private static long[] flat(int[][] rows) {
    int len = rows[0].length;
    long[] out = new long[rows.length * len];
    for (int b = 0; b < rows.length; b++) {
      for (int t = 0; t < len; t++) {
        out[b * len + t] = rows[b][t];
      }
    }
    return out;
  }
}
