// The ONNX Runtime rollout engine: owns the graph proto, the session over the current weights, the decoder
// (KV-cache sampler or recompute-every-step generator) and the weight sync (new weights -> new session; with a LoRA
// adapter, new adapter -> same session).
package dev.rlsr.export.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoraAdapter;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.Device;
import dev.rlsr.export.StoredWeights;
import dev.rlsr.export.OnnxAdapterFormat;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.NativeBuffers;
import dev.rlsr.policy.util.RlsrException;
import java.nio.ByteBuffer;
import dev.rlsr.policy.rollout.RecomputeGenerator;
import dev.rlsr.policy.rollout.DecodeState;
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
 * <p>With a LoRA adapter ({@link EngineOptions#lora}): the graph has the adapter's inputs
 * ({@link OnnxPolicyExporter#buildWithExternalWeights(ModelConfig, LoraConfig, java.util.Map,
 * OnnxPolicyExporter.Logits)}); the weights given at creation are the base, handed to the one session the engine
 * keeps for its life ({@link OnnxPolicySessions#createLora}), and {@link #sync} takes the adapter tensors only
 * ({@link LoraConfig#layout}; a source with more tensors, e.g. every trainable variable, is fine). Until the first
 * sync the engine is the base model (or the adapter in the creation weights, if they hold one).
 *
 * <p>How the adapter gets into ONNX Runtime: as an {@link OrtLoraAdapter} (the flatbuffer of
 * {@link OnnxAdapterFormat#encode}) made active in the {@link OrtSession.RunOptions} of every run, not as
 * OnnxTensors added to each run's inputs. ONNX Runtime itself accepts fed overridable initializers, but its Java API
 * (1.23.2) does not: {@code OrtSession.run} refuses any input that is not among {@code getInputNames()}, the
 * required inputs, where initializer-backed inputs are not listed (LoraGraphTest shows the refusal). An active
 * adapter's tensors are added to the feeds by the native run, past that check. A sync costs the adapter's copy into
 * the flatbuffer and ONNX Runtime's copy of it; the session, and the base weights in it, stay as they are.
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
  private final LoraConfig lora;          // null: whole-weight sync
  private final StoredWeights stored;     // how a whole-weight session stores the weights; null: LoRA, or a file
  private OnnxPolicySession session;
  private OrtLoraAdapter adapter;         // lora: the synced adapter; null: none (base model, or released)
  private OrtSession.RunOptions runOptions; // lora: runs with the adapter active; null: plain runs
  private boolean released;               // lora: release() dropped the adapter, sample throws until a sync
  private int adapterVersion;
  private OrtSampler sampler;             // kvCache
  private RecomputeGenerator recompute;   // !kvCache

  private OrtRolloutEngine(ModelConfig config, byte[] proto, Path file, int threads, Device device, boolean kvCache,
      LoraConfig lora, OnnxPolicySession session) {
    this(config, proto, file, threads, device, kvCache, lora, null, session);
  }

  private OrtRolloutEngine(ModelConfig config, byte[] proto, Path file, int threads, Device device, boolean kvCache,
      LoraConfig lora, StoredWeights stored, OnnxPolicySession session) {
    this.stored = stored;
    this.config = config;
    this.proto = proto;
    this.file = file;
    this.threads = threads;
    this.device = device;
    this.kvCache = kvCache;
    this.lora = lora;
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
    if (o.lora() != null) {
      return createLora(config, weights, o, kvCache);
    }
    // float32, or the quantized export's graph and weights, re-quantized from the float32 weights at every sync
    StoredWeights st = StoredWeights.of(config, o.dtype(), StoredWeights.DEFAULT_BLOCK_SIZE, false)
        .q4AccuracyLevel(StoredWeights.DEFAULT_Q4_ACCURACY_LEVEL);
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(st, o.metadata(), o.logits());
    OnnxPolicySession s = OnnxPolicySessions.create(OrtEnvironment.getEnvironment(), proto, st, weights,
        o.threads(), o.device());
    return new OrtRolloutEngine(config, proto, null, o.threads(), o.device(), kvCache, null, st, s);
  }

  /**
   * A LoRA engine: the base weights of {@code config}'s layout from {@code weights} into the session; if
   * {@code weights} also holds adapter tensors ({@code o.lora()}'s layout), they must all be there and are the
   * starting adapter, otherwise the engine starts as the base model.
   */
  private static OrtRolloutEngine createLora(ModelConfig config, TensorSource weights, EngineOptions o,
      boolean kvCache) {
    LoraConfig l = o.lora();
    byte[] proto = OnnxPolicyExporter.buildWithExternalWeights(config, l, o.metadata(), o.logits());
    boolean withAdapter = weights.shapes().keySet().stream().anyMatch(l.layout(config)::containsKey);
    if (withAdapter) {
      OnnxPolicyExporter.checkAdapter(config, l, weights); // refused before a session is made
    }
    OnnxPolicySession s = OnnxPolicySessions.createLora(OrtEnvironment.getEnvironment(), proto, config, l, weights,
        o.threads(), o.device());
    OrtRolloutEngine e = new OrtRolloutEngine(config, proto, null, o.threads(), o.device(), kvCache, l, s);
    if (withAdapter) {
      try {
        e.sync(weights);
      } catch (RuntimeException ex) {
        e.close();
        throw ex;
      }
    }
    return e;
  }

  /**
   * A KV-cache engine over an exported model ({@link OnnxPolicyExporter#writeModel}: {@code model.onnx}, its data
   * file beside it) of config {@code c}: what a serving consumer runs. It cannot {@link #sync}.
   */
  public static OrtRolloutEngine open(Path modelOnnx, ModelConfig c, int threads, Device device) {
    OnnxPolicySession s = OnnxPolicySessions.open(OrtEnvironment.getEnvironment(), modelOnnx, threads, device);
    return new OrtRolloutEngine(c, null, modelOnnx, threads, device, true, null, s);
  }

  @Override
  public List<Rollout> sample(List<int[]> prompts, SamplingOptions o) {
    requireSession();
    requireAdapter();
    return kvCache ? sampler.sample(prompts, o) : recompute.sample(prompts, o);
  }

  @Override
  public List<Rollout> sample(List<int[]> prompts, List<SamplingOptions> perRow) {
    return sample(prompts, perRow, DecodeState.NONE);
  }

  /**
   * Rows with their own options and random streams, each token shown to {@code listener} as it is chosen
   * ({@link OrtSampler#sample(List, List, DecodeState.TokenListener)}): how {@code rlsr serve} decodes requests that
   * arrive together in one batch. KV-cache engines only.
   */
  public List<Rollout> sample(List<int[]> prompts, List<SamplingOptions> perRow, DecodeState.TokenListener listener) {
    requireSession();
    requireAdapter();
    if (!kvCache) {
      throw new UnsupportedOperationException("per-row sampling needs a KV-cache engine (RolloutEngines.Backend.ONNX)");
    }
    return sampler.sample(prompts, perRow, listener);
  }

  /**
   * A new session over the same proto with {@code weights}, streamed into it tensor by tensor. The old session is
   * closed first, so a sync holds one session's copy of the weights at a time instead of two (at 0.5B parameters
   * that is 2 GB of peak memory less). The price: if the new session cannot be created, the engine is left without
   * one and every later {@link #sample} or {@link #forward} throws until a sync succeeds; rlsr train stops on the
   * error anyway.
   *
   * <p>A LoRA engine takes the adapter's tensors from {@code weights} instead ({@link LoraConfig#layout}, each with
   * its shape; refused with the missing or misshapen tensor's name, the engine keeping its adapter) and keeps its
   * session: see the class comment.
   */
  @Override
  public void sync(TensorSource weights) {
    if (lora != null) {
      syncAdapter(weights);
      return;
    }
    if (proto == null) {
      throw new UnsupportedOperationException(file + ": an engine over an exported model file has its weights in the "
          + "file and cannot take new ones; create one from weights (RolloutEngines.open) to sync");
    }
    OnnxPolicyExporter.checkWeights(config, weights); // refused before the old session goes
    close();
    use(OnnxPolicySessions.create(env, proto, stored, weights, threads, device));
  }

  /**
   * Full forward passes on the current session (scoring, e.g. {@code rlsr logprobs}: open the engine with
   * {@link OnnxPolicyExporter.Logits#ALL} for every position's logits). Valid until the next {@link #sync} or
   * {@link #close}.
   */
  public OnnxForward forward() {
    requireSession();
    requireAdapter();
    return new OnnxForward(env, session.session(), config, runOptions);
  }

  /**
   * Closes the session (the weights' copy, prepacked matrices and arena) until the next {@link #sync}, which makes
   * a new one anyway. An engine over a model file keeps its session: it could not make a new one.
   *
   * <p>A LoRA engine frees only its adapter (sample throws until the next sync) and keeps the session with the base
   * weights, since its sync sends the adapter only and could not rebuild the session without the base. So the
   * memory trade-off differs from a whole-weight engine: the base's copy in ONNX Runtime (at 0.5B parameters about
   * 2 GB plus prepacked matrices) stays resident through the log-prob passes and the update; in exchange no sync
   * re-sends or re-copies the base.
   */
  @Override
  public void release() {
    if (lora != null) {
      dropAdapter();
      released = true;
    } else if (proto != null) {
      close();
    }
  }

  @Override
  public void close() {
    dropAdapter();
    if (session != null) {
      session.close();
      session = null;
    }
  }

  /** The session of this engine (tests check that an adapter sync keeps it). */
  OnnxPolicySession policySession() {
    return session;
  }

  /**
   * The adapter from {@code source} as an active OrtLoraAdapter of new run options, replacing the old ones after the
   * new are made (the engine keeps its adapter when the source is refused).
   */
  private void syncAdapter(TensorSource source) {
    requireSession();
    ByteBuffer flat = OnnxAdapterFormat.encode(config, lora, source, adapterVersion + 1); // checks names and shapes
    OrtLoraAdapter a = null;
    OrtSession.RunOptions ro = null;
    try {
      a = OrtLoraAdapter.create(flat); // ONNX Runtime copies the buffer
      ro = new OrtSession.RunOptions();
      ro.addActiveLoraAdapter(a);
    } catch (OrtException e) {
      if (ro != null) {
        ro.close();
      }
      if (a != null) {
        a.close();
      }
      throw new RlsrException("ONNX Runtime refused the LoRA adapter: " + e.getMessage(), e);
    } finally {
      NativeBuffers.free(flat);
    }
    dropAdapter();
    adapter = a;
    runOptions = ro;
    released = false;
    adapterVersion++;
    use(session);
  }

  private void dropAdapter() {
    if (runOptions != null) {
      runOptions.close();
      runOptions = null;
    }
    if (adapter != null) {
      adapter.close();
      adapter = null;
    }
  }

  private void requireAdapter() {
    if (released) {
      throw new IllegalStateException("this LoRA rollout engine was released: sync an adapter before sampling");
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
      sampler = new OrtSampler(env, s.session(), config, runOptions);
    } else {
      recompute = new OnnxForward(env, s.session(), config, runOptions).recomputeGenerator();
    }
  }
}
