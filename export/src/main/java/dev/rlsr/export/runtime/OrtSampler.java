// Batched autoregressive sampling from the policy's ONNX Runtime session with a KV cache (rollouts for GRPO).
package dev.rlsr.export.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.PolicyIo;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.rollout.DecodeState;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import dev.rlsr.policy.util.RlsrException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Samples continuations for a batch of prompts of different lengths from a session with the rlsr policy I/O
 * ({@link PolicyIo}, built by {@code OnnxPolicyExporter}): {@code input_ids}, {@code attention_mask},
 * {@code position_ids}, {@code past_key_values.i.key/value} in; {@code logits}, {@code present.i.key/value} out.
 * Logits of every position or of the last one only ({@code OnnxPolicyExporter.Logits.LAST}, cheaper for large
 * vocabularies) both work.
 *
 * <p>The decoding rules (left padding, positions, stop tokens, seeded draws) are {@link RolloutEngine}'s. The prompt
 * batch is run once (prefill), then one token per step with the previous step's {@code present} tensors as the past.
 * The session is borrowed (its owner, e.g. {@link OrtRolloutEngine}, closes it). Not thread-safe; one sampler per
 * session user.
 */
public final class OrtSampler {
  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelConfig config;
  private final OrtSession.RunOptions runOptions; // null: plain runs

  public OrtSampler(OrtEnvironment env, OrtSession session, ModelConfig config) {
    this(env, session, config, null);
  }

  /**
   * A sampler whose every run uses {@code runOptions} (borrowed; null: none), e.g. with an active LoRA adapter
   * ({@code RunOptions.addActiveLoraAdapter}) that feeds the adapter inputs of the session.
   */
  public OrtSampler(OrtEnvironment env, OrtSession session, ModelConfig config, OrtSession.RunOptions runOptions) {
    this.env = env;
    this.session = session;
    this.config = config;
    this.runOptions = runOptions;
    List<String> need = new ArrayList<>(List.of(PolicyIo.INPUT_IDS, PolicyIo.ATTENTION_MASK, PolicyIo.POSITION_IDS));
    for (int i = 0; i < config.numLayers(); i++) {
      need.add(PolicyIo.pastKey(i));
      need.add(PolicyIo.pastValue(i));
    }
    Set<String> inputs = session.getInputNames();
    for (String n : need) {
      if (!inputs.contains(n)) {
        throw new RlsrException("the ONNX policy session has no input \"" + n + "\" (inputs: " + inputs
            + "); it must come from rlsr's OnnxPolicyExporter for a " + config.numLayers() + "-layer model");
      }
    }
  }

  /** One continuation per prompt, in prompt order, by the rules of {@link RolloutEngine#sample}. */
  public List<Rollout> sample(List<int[]> prompts, SamplingOptions o) {
    if (prompts.isEmpty()) {
      return List.of();
    }
    return run(new DecodeState(prompts, o, config.vocabSize()));
  }

  /**
   * One continuation per prompt where each row has its own options and random stream
   * ({@link DecodeState#DecodeState(List, List, DecodeState.TokenListener, int)}): the batched decoding of
   * {@code rlsr serve}, where the rows are different requests. {@code listener} sees every token as it is chosen.
   */
  public List<Rollout> sample(List<int[]> prompts, List<SamplingOptions> perRow, DecodeState.TokenListener listener) {
    if (prompts.isEmpty()) {
      return List.of();
    }
    return run(new DecodeState(prompts, perRow, listener, config.vocabSize()));
  }

  private List<Rollout> run(DecodeState st) {
    try {
      return decode(st);
    } catch (OrtException e) {
      throw new RlsrException("ONNX Runtime failed while sampling rollouts: " + e.getMessage(), e);
    }
  }

  private List<Rollout> decode(DecodeState st) throws OrtException {
    int vocab = config.vocabSize();
    int batch = st.batch;
    int promptLen = st.promptLen;
    int maxTotal = promptLen + st.maxNewTokens;

    // Left-padded prompt batch: ids, positions [B, promptLen]; the mask [B, maxTotal] grows by one column per step.
    long[] stepIds = new long[batch * promptLen];
    long[] stepPos = new long[batch * promptLen];
    long[] mask = new long[batch * maxTotal];     // row stride maxTotal; the first `seen` columns are in use
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < promptLen; t++) {
        stepIds[b * promptLen + t] = st.promptId(b, t);
        stepPos[b * promptLen + t] = st.promptPosition(b, t);
        mask[b * maxTotal + t] = st.promptMask(b, t);
      }
    }

    OrtSession.Result previous = null;
    try {
      int seen = promptLen;
      int stepLen = promptLen;
      for (int step = 0; step < st.maxNewTokens; step++) {
        OrtSession.Result r = forward(stepIds, stepPos, mask, batch, stepLen, seen, maxTotal, previous);
        if (previous != null) {
          previous.close(); // only now: its present tensors were this step's past
        }
        previous = r;
        OnnxTensor logitsTensor = (OnnxTensor) r.get(PolicyIo.LOGITS).orElseThrow();
        int positions = (int) logitsTensor.getInfo().getShape()[1];       // stepLen, or 1 for last-token graphs
        FloatBuffer all = logitsTensor.getFloatBuffer();                  // [B, positions, V]
        boolean anyActive = st.advance((b, into) -> {
          all.position((b * positions + positions - 1) * vocab);
          all.get(into);
        });
        if (!anyActive) {
          break;
        }
        stepIds = new long[batch];
        stepPos = new long[batch];
        for (int b = 0; b < batch; b++) {
          stepIds[b] = st.nextToken[b];
          stepPos[b] = st.nextPosition[b];
          mask[b * maxTotal + seen] = st.nextMask[b];
        }
        seen++;
        stepLen = 1;
      }
    } finally {
      if (previous != null) {
        previous.close();
      }
    }
    return st.rollouts();
  }

  /** One session run; the past comes from {@code previous} (null: empty past). The caller closes the result. */
  private OrtSession.Result forward(long[] ids, long[] pos, long[] maskRows, int batch, int len, int seen, int stride,
      OrtSession.Result previous) throws OrtException {
    long[] mask = new long[batch * seen];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(maskRows, b * stride, mask, b * seen, seen);
    }
    Map<String, OnnxTensor> owned = new LinkedHashMap<>();
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try {
      owned.put(PolicyIo.INPUT_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {batch, len}));
      owned.put(PolicyIo.ATTENTION_MASK, OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {batch, seen}));
      owned.put(PolicyIo.POSITION_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(pos), new long[] {batch, len}));
      for (int i = 0; i < config.numLayers(); i++) {
        for (boolean key : new boolean[] {true, false}) {
          String name = key ? PolicyIo.pastKey(i) : PolicyIo.pastValue(i);
          if (previous == null) {
            owned.put(name, OnnxTensor.createTensor(env, FloatBuffer.allocate(0),
                new long[] {batch, config.numKvHeads(), 0, config.headDim()}));
          } else {
            String present = key ? PolicyIo.presentKey(i) : PolicyIo.presentValue(i);
            in.put(name, (OnnxTensor) previous.get(present).orElseThrow());
          }
        }
      }
      in.putAll(owned);
      return runOptions == null ? session.run(in) : session.run(in, runOptions);
    } finally {
      owned.values().forEach(OnnxTensor::close);
    }
  }
}
