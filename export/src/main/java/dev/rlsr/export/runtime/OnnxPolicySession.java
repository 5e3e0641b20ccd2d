// An ONNX Runtime session of the policy together with the native weight buffers it was created from.
package dev.rlsr.export.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.PolicyIo;
import java.util.List;

/**
 * Owns the session, its options and (for weight-synced sessions) the {@code OnnxTensor}s handed to
 * {@code addExternalInitializers}, which are kept alive as long as the session and closed with it.
 */
public final class OnnxPolicySession implements AutoCloseable {
  private final OrtSession session;
  private final OrtSession.SessionOptions options;
  private final List<OnnxTensor> weights;

  OnnxPolicySession(OrtSession session, OrtSession.SessionOptions options, List<OnnxTensor> weights) {
    this.session = session;
    this.options = options;
    this.weights = weights;
  }

  /** The session, with the I/O of {@link PolicyIo}. */
  public OrtSession session() {
    return session;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("closing the ONNX Runtime session failed", e);
    } finally {
      options.close();
      weights.forEach(OnnxTensor::close);
    }
  }
}
