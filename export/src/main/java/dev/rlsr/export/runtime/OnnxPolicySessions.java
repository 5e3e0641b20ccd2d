// Creates ONNX Runtime sessions of the policy: weight sync (small proto + weights from direct buffers) for
// rollouts, or a written model.onnx for serving checks; device and thread options in one place.
package dev.rlsr.export.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.Device;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.util.RlsrException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class OnnxPolicySessions {
  private OnnxPolicySessions() {}

  /**
   * A session over a proto from {@link OnnxPolicyExporter#buildWithExternalWeights} whose weights come from
   * {@code w} through direct buffers ({@code SessionOptions.addExternalInitializers}): no re-serialisation, so
   * this is the weight sync after each optimiser step (new weights, new session; close the old one).
   *
   * @param threads intra-op threads (>= 1); 2 was fastest for a ~5M-parameter model on 2 cores
   * @param device  the execution provider (CUDA device 0 needs the onnxruntime_gpu build, {@code -Pgpu})
   */
  public static OnnxPolicySession create(OrtEnvironment env, byte[] proto, ModelWeights w, int threads, Device device) {
    OrtSession.SessionOptions opts = options(threads, device);
    List<OnnxTensor> owned = new ArrayList<>();
    try {
      Map<String, OnnxTensorLike> initializers = new LinkedHashMap<>();
      for (Map.Entry<String, FloatTensor> e : OnnxPolicyExporter.initializerFeeds(w).entrySet()) {
        OnnxTensor t = directTensor(env, e.getValue());
        owned.add(t);
        initializers.put(e.getKey(), t);
      }
      opts.addExternalInitializers(initializers);
      return new OnnxPolicySession(env.createSession(proto, opts), opts, owned);
    } catch (OrtException | RuntimeException e) {
      owned.forEach(OnnxTensor::close);
      opts.close();
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new RlsrException("ONNX Runtime refused the policy graph with the given weights: " + e.getMessage(), e);
    }
  }

  /** {@link #create(OrtEnvironment, byte[], ModelWeights, int, Device)} for a device named "cpu" or "cuda". */
  public static OnnxPolicySession create(OrtEnvironment env, byte[] proto, ModelWeights w, int threads, String device) {
    return create(env, proto, w, threads, Device.parse(device));
  }

  /** {@link #open(OrtEnvironment, Path, int, Device)} for a device named "cpu" or "cuda". */
  public static OnnxPolicySession open(OrtEnvironment env, Path modelOnnx, int threads, String device) {
    return open(env, modelOnnx, threads, Device.parse(device));
  }

  /** A session over a model file written by {@link OnnxPolicyExporter#writeModel} (weights inside or beside it). */
  public static OnnxPolicySession open(OrtEnvironment env, Path modelOnnx, int threads, Device device) {
    OrtSession.SessionOptions opts = options(threads, device);
    try {
      return new OnnxPolicySession(env.createSession(modelOnnx.toString(), opts), opts, List.of());
    } catch (OrtException e) {
      opts.close();
      throw new RlsrException(modelOnnx + ": ONNX Runtime cannot load the model: " + e.getMessage(), e);
    }
  }

  /** Session options for {@code --threads} and {@code --device}; refusals name the flag and the fix. */
  public static OrtSession.SessionOptions options(int threads, String device) {
    return options(threads, Device.parse(device));
  }

  /** Session options for {@code --threads} and a parsed {@code --device}. */
  public static OrtSession.SessionOptions options(int threads, Device device) {
    if (threads < 1) {
      throw new RlsrException("--threads must be at least 1, got " + threads);
    }
    device.requireAvailable();
    OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
    try {
      opts.setIntraOpNumThreads(threads);
      opts.setInterOpNumThreads(1);
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      if (device == Device.CUDA) {
        opts.addCUDA(0);
      }
      return opts;
    } catch (OrtException e) {
      opts.close();
      throw new RlsrException("--device " + device + ": ONNX Runtime could not set up the session (" + e.getMessage()
          + ")" + (device == Device.CUDA ? ". Use --device cpu, or build with -Pgpu on a machine with CUDA and its drivers." : ""), e);
    }
  }

  /** A float32 OnnxTensor over a direct, native-order buffer holding a copy of {@code t}. */
  static OnnxTensor directTensor(OrtEnvironment env, FloatTensor t) throws OrtException {
    FloatBuffer buf = ByteBuffer.allocateDirect(t.data().length * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    buf.put(t.data()).rewind();
    return OnnxTensor.createTensor(env, buf, t.shape());
  }
}
