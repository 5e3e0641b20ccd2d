// An ONNX Runtime session of the policy together with its session options, closed with it.
package dev.rlsr.export.runtime;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.PolicyIo;

/**
 * Owns the session and its options. The weight buffers a weight-synced session was created from are not kept: ONNX
 * Runtime copies them at creation, and {@link OnnxPolicySessions#create} frees them right after.
 */
public final class OnnxPolicySession implements AutoCloseable {
  private final OrtSession session;
  private final OrtSession.SessionOptions options;

  OnnxPolicySession(OrtSession session, OrtSession.SessionOptions options) {
    this.session = session;
    this.options = options;
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
    }
  }
}
