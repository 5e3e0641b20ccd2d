// The ONNX Runtime rollout engine: owns the graph proto, the session over the current weights, the decoder
// (KV-cache sampler or recompute-every-step generator) and the weight sync (new weights -> new session).
package dev.rlsr.export.runtime;

import dev.rlsr.export.Device;
import ai.onnxruntime.OrtEnvironment;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.rollout.RecomputeGenerator;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.SamplingOptions;
import java.nio.file.Path;
import java.util.List;

/**
 * Rollouts in ONNX Runtime on the policy graph of {@link OnnxPolicyExporter}.
 *
 * <p>{@link #create}: over the small proto of {@link OnnxPolicyExporter#buildWithExternalWeights}, built once, with
 * the weights handed to the session as external initializers ({@link OnnxPolicySessions#create}). {@link #sync}
 * closes the session and creates a new one over the same proto with the new weights (the weight sync after each
 * optimiser step of {@code rlsr train}, logged as {@code seconds_sync}). {@link #open}: over an exported
 * {@code model.onnx}, weights inside or beside it; such an engine cannot sync.
 *
 * <p>Decoding: with the KV cache ({@link OrtSampler}, prefill then one token per step) or recomputing the whole
 * sequence with an empty past each step ({@link OnnxForward#recomputeGenerator}, the no-cache baseline); both give
 * the same tokens.
 */
public final class OrtRolloutEngine implements RolloutEngine {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final ModelConfig config;
  private final byte[] proto;       // null: opened from a model file
  private final Path file;
  private final int threads;
  private final Device device;
  private final boolean kvCache;
  private OnnxPolicySession session;
  private OrtSampler sampler;             // kvCache
  private RecomputeGenerator recompute;   // !kvCache

  private OrtRolloutEngine(ModelConfig config, byte[] proto, Path file, int threads, Device device, boolean kvCache,
      OnnxPolicySession session) {
    this.config = config;
    this.proto = proto;
    this.file = file;
    this.threads = threads;
    this.device = device;
    this.kvCache = kvCache;
    use(session);
  }

  /**
   * An engine over {@code weights}: the proto is built from their config with {@code o.logits()} and
   * {@code o.metadata()}, the session with {@code o.threads()} and {@code o.device()}.
   *
   * @param kvCache true: KV-cache decoding; false: recompute the whole sequence each step
   */
  public static OrtRolloutEngine create(ModelWeights weights, EngineOptions o, boolean kvCache) {
    return create(weights.config(), weights, o, kvCache);
  }

  /** {@link #create(ModelWeights, EngineOptions, boolean)} over the tensors of {@code config}'s layout in {@code weights}. */
  public static OrtRolloutEngine create(ModelConfig config, TensorSource weights, EngineOptions o, boolean kvCache) {
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(config, o.metadata(), o.logits());
    OnnxPolicySession s = OnnxPolicySessions.create(OrtEnvironment.getEnvironment(), proto, config, weights,
        o.threads(), o.device());
    return new OrtRolloutEngine(config, proto, null, o.threads(), o.device(), kvCache, s);
  }

  /**
   * A KV-cache engine over an exported model ({@link OnnxPolicyExporter#writeModel}: {@code model.onnx}, its data
   * file beside it) of config {@code c}: what a serving consumer runs. It cannot {@link #sync}.
   */
  public static OrtRolloutEngine open(Path modelOnnx, ModelConfig c, int threads, Device device) {
    OnnxPolicySession s = OnnxPolicySessions.open(OrtEnvironment.getEnvironment(), modelOnnx, threads, device);
    return new OrtRolloutEngine(c, null, modelOnnx, threads, device, true, s);
  }

  @Override
  public List<Rollout> sample(List<int[]> prompts, SamplingOptions o) {
    requireSession();
    return kvCache ? sampler.sample(prompts, o) : recompute.sample(prompts, o);
  }

  /**
   * A new session over the same proto with {@code weights}, streamed into it tensor by tensor. The old session is
   * closed first, so a sync holds one session's copy of the weights at a time instead of two (at 0.5B parameters
   * that is 2 GB of peak memory less). The price: if the new session cannot be created, the engine is left without
   * one and every later {@link #sample} or {@link #forward} throws until a sync succeeds; rlsr train stops on the
   * error anyway.
   */
  @Override
  public void sync(TensorSource weights) {
    if (proto == null) {
      throw new UnsupportedOperationException(file + ": an engine over an exported model file has its weights in the "
          + "file and cannot take new ones; create one from weights (RolloutEngines.open) to sync");
    }
    OnnxPolicyExporter.checkWeights(config, weights); // refused before the old session goes
    close();
    use(OnnxPolicySessions.create(env, proto, config, weights, threads, device));
  }

  /**
   * Full forward passes on the current session (scoring, e.g. {@code rlsr logprobs}: open the engine with
   * {@link OnnxPolicyExporter.Logits#ALL} for every position's logits). Valid until the next {@link #sync} or
   * {@link #close}.
   */
  public OnnxForward forward() {
    requireSession();
    return new OnnxForward(env, session.session(), config);
  }

  /**
   * Closes the session (the weights' copy, prepacked matrices and arena) until the next {@link #sync}, which makes
   * a new one anyway. An engine over a model file keeps its session: it could not make a new one.
   */
  @Override
  public void release() {
    if (proto != null) {
      close();
    }
  }

  @Override
  public void close() {
    if (session != null) {
      session.close();
      session = null;
    }
  }

  private void requireSession() {
    if (session == null) {
      throw new IllegalStateException("this rollout engine has no session: it was closed or released, or its last sync "
          + "failed");
    }
  }

  private void use(OnnxPolicySession s) {
    session = s;
    if (kvCache) {
      sampler = new OrtSampler(env, s.session(), config);
    } else {
      recompute = new OnnxForward(env, s.session(), config).recomputeGenerator();
    }
  }
}
