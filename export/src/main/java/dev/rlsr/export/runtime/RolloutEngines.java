// The one way rlsr opens a rollout engine: train, eval, generate, bench generate, logprobs and the demo.
package dev.rlsr.export.runtime;

import dev.rlsr.export.Device;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.rollout.RolloutEngine;
import dev.rlsr.policy.rollout.TfGenerator;
import dev.rlsr.policy.util.RlsrException;

/** Opens a {@link RolloutEngine} of a backend on weights; see {@link RolloutEngine} for adding a backend. */
public final class RolloutEngines {
  private RolloutEngines() {}

  /** The backends of the rollout seam. */
  public enum Backend {
    /** ONNX Runtime with a KV cache ({@link OrtSampler}): the rollouts of {@code rlsr train}, eval, generate. */
    ONNX,
    /** ONNX Runtime, the same graph fed the whole sequence with an empty past each step (no-cache baseline). */
    ONNX_RECOMPUTE,
    /** The TensorFlow inference graph ({@link TfGenerator}), whole sequence each step. */
    TF
  }

  /** An engine of {@code backend} over {@code weights}, with {@code o}'s threads, device, logits and metadata. */
  public static RolloutEngine open(Backend backend, ModelWeights weights, EngineOptions o) {
    return open(backend, weights.config(), weights, o);
  }

  /**
   * An engine of {@code backend} over the weights of {@code config}'s layout, read from {@code weights} one tensor at
   * a time (a model's files, a graph's variables), with {@code o}'s threads, device, logits and metadata.
   *
   * <p>With {@link EngineOptions#lora} (ONNX backends only): {@code weights} are the base, kept in the engine's one
   * session, and every {@link RolloutEngine#sync} takes the adapter's tensors only ({@link OrtRolloutEngine}).
   */
  public static RolloutEngine open(Backend backend, ModelConfig config, TensorSource weights, EngineOptions o) {
    return switch (backend) {
      case ONNX, ONNX_RECOMPUTE -> openOrt(backend, config, weights, o);
      case TF -> {
        if (o.lora() != null) {
          throw new RlsrException("LoRA rollouts (an adapter synced without the base weights) run in ONNX Runtime "
              + "only: use the onnx or onnx-recompute backend, or merge the adapter into the weights for tf");
        }
        if (o.device() != Device.CPU) {
          throw new RlsrException("--device " + o.device() + " applies to ONNX Runtime backends only (TensorFlow "
              + "places ops itself)");
        }
        yield TfGenerator.open(config, weights, o.threads());
      }
    };
  }

  /**
   * An ONNX Runtime engine ({@code ONNX} or {@code ONNX_RECOMPUTE}), typed for callers that also run full forward
   * passes on its session ({@link OrtRolloutEngine#forward}).
   */
  public static OrtRolloutEngine openOrt(Backend backend, ModelWeights weights, EngineOptions o) {
    return openOrt(backend, weights.config(), weights, o);
  }

  /** {@link #openOrt(Backend, ModelWeights, EngineOptions)} streaming the weights from {@code weights}. */
  public static OrtRolloutEngine openOrt(Backend backend, ModelConfig config, TensorSource weights, EngineOptions o) {
    return switch (backend) {
      case ONNX -> OrtRolloutEngine.create(config, weights, o, true);
      case ONNX_RECOMPUTE -> OrtRolloutEngine.create(config, weights, o, false);
      case TF -> throw new IllegalArgumentException("openOrt: TF is not an ONNX Runtime backend; use open");
    };
  }
}
