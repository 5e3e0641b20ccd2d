// How a rollout engine is opened: threads, device, which logits the ONNX graph returns, metadata of the graph, and
// the LoRA adapter the ONNX engine takes at sync instead of whole weights.
package dev.rlsr.export.runtime;

import dev.rlsr.export.Device;
import dev.rlsr.export.ExportDtype;
import dev.rlsr.export.StoredWeights;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.policy.model.LoraConfig;
import java.util.Map;

/**
 * @param threads  intra-op threads ({@code --threads}, >= 1) of the ONNX Runtime session or the TensorFlow graph
 * @param device   ONNX Runtime execution provider ({@code --device}); the TF backend takes {@link Device#CPU} only
 *                 (TensorFlow places ops itself)
 * @param logits   ONNX backends: logits of the last position only ({@link OnnxPolicyExporter.Logits#LAST}, what
 *                 generation needs: no [batch, prompt, vocab] prefill logits) or of every position
 * @param metadata ONNX backends: extra metadata of the graph proto (e.g. {@code rlsr.run_config})
 * @param lora     ONNX backends, or null: the graph has the inputs of this adapter, the weights given at open are the
 *                 base (kept in the session for the engine's life) and {@link dev.rlsr.policy.rollout.RolloutEngine#sync}
 *                 takes the adapter tensors only ({@link OrtRolloutEngine})
 * @param dtype    ONNX backends: how the session stores the weights ({@code train --rollout-dtype}): float32, or
 *                 quantized as {@code rlsr export --dtype} stores them ({@link StoredWeights}), re-quantized from the
 *                 float32 weights at every sync; a LoRA graph is float32
 */
public record EngineOptions(int threads, Device device, OnnxPolicyExporter.Logits logits, Map<String, String> metadata,
    LoraConfig lora, ExportDtype dtype) {
  public EngineOptions {
    metadata = Map.copyOf(metadata);
    if (lora != null && dtype != ExportDtype.FP32) {
      throw new IllegalArgumentException("a LoRA rollout graph is float32, not " + dtype);
    }
  }

  /** Options without an adapter. */
  public EngineOptions(int threads, Device device, OnnxPolicyExporter.Logits logits, Map<String, String> metadata) {
    this(threads, device, logits, metadata, null, ExportDtype.FP32);
  }

  /** Last-position logits, no metadata: the options of every generation caller. */
  public static EngineOptions of(int threads, Device device) {
    return new EngineOptions(threads, device, OnnxPolicyExporter.Logits.LAST, Map.of());
  }

  public EngineOptions withLogits(OnnxPolicyExporter.Logits l) {
    return new EngineOptions(threads, device, l, metadata, lora, dtype);
  }

  public EngineOptions withMetadata(Map<String, String> m) {
    return new EngineOptions(threads, device, logits, m, lora, dtype);
  }

  /** With a LoRA adapter of {@code l} (null: none): the ONNX engine syncs the adapter only. */
  public EngineOptions withLora(LoraConfig l) {
    return new EngineOptions(threads, device, logits, metadata, l, dtype);
  }

  /** With the weights of the rollout session stored as {@code d} (fp32, or quantized: q8, q4). */
  public EngineOptions withDtype(ExportDtype d) {
    return new EngineOptions(threads, device, logits, metadata, lora, d);
  }
}
