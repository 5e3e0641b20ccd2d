// How a rollout engine is opened: threads, device, which logits the ONNX graph returns, metadata of the graph.
package dev.rlsr.export.runtime;

import dev.rlsr.export.Device;
import dev.rlsr.export.OnnxPolicyExporter;
import java.util.Map;

/**
 * @param threads  intra-op threads ({@code --threads}, >= 1) of the ONNX Runtime session or the TensorFlow graph
 * @param device   ONNX Runtime execution provider ({@code --device}); the TF backend takes {@link Device#CPU} only
 *                 (TensorFlow places ops itself)
 * @param logits   ONNX backends: logits of the last position only ({@link OnnxPolicyExporter.Logits#LAST}, what
 *                 generation needs: no [batch, prompt, vocab] prefill logits) or of every position
 * @param metadata ONNX backends: extra metadata of the graph proto (e.g. {@code rlsr.run_config})
 */
public record EngineOptions(int threads, Device device, OnnxPolicyExporter.Logits logits, Map<String, String> metadata) {
  public EngineOptions {
    metadata = Map.copyOf(metadata);
  }

  /** Last-position logits, no metadata: the options of every generation caller. */
  public static EngineOptions of(int threads, Device device) {
    return new EngineOptions(threads, device, OnnxPolicyExporter.Logits.LAST, Map.of());
  }

  public EngineOptions withLogits(OnnxPolicyExporter.Logits l) {
    return new EngineOptions(threads, device, l, metadata);
  }

  public EngineOptions withMetadata(Map<String, String> m) {
    return new EngineOptions(threads, device, logits, m);
  }
}
