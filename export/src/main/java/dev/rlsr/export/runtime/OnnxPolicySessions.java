// Creates ONNX Runtime sessions of the policy: weight sync (small proto + weights streamed into direct buffers, freed
// once ONNX Runtime has copied them) for rollouts, or a written model.onnx for serving checks; device and thread
// options in one place.
package dev.rlsr.export.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rlsr.export.Device;
import dev.rlsr.export.ExportDtype;
import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.StoredWeights;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.NativeBuffers;
import dev.rlsr.policy.util.RlsrException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

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
    return create(env, proto, w.config(), w, threads, device);
  }

  /** {@link #create(OrtEnvironment, byte[], ModelWeights, int, Device)} for a device named "cpu" or "cuda". */
  public static OnnxPolicySession create(OrtEnvironment env, byte[] proto, ModelWeights w, int threads, String device) {
    return create(env, proto, w.config(), w, threads, Device.parse(device));
  }

  /**
   * A session over {@code proto} (of {@code c}) with the weights of {@code c}'s layout read from {@code w}, one
   * direct buffer per tensor filled by {@link TensorSource#readInto} (no Java array of the tensor on the way).
   * ONNX Runtime copies external initializers while it creates the session (OrtCopiesInitializersTest: overwriting
   * the buffers afterwards changes nothing), so the buffers are freed as soon as the session exists: a session costs
   * ONNX Runtime's copy of the weights, not that plus ours.
   */
  public static OnnxPolicySession create(OrtEnvironment env, byte[] proto, ModelConfig c, TensorSource w, int threads,
      Device device) {
    return create(env, proto, c, w, threads, device, buffers -> {});
  }

  /**
   * {@link #create(OrtEnvironment, byte[], ModelConfig, TensorSource, int, Device)}, handing {@code created} the
   * weight buffers once the session exists and before they are freed (tests overwrite them there).
   */
  static OnnxPolicySession create(OrtEnvironment env, byte[] proto, ModelConfig c, TensorSource w, int threads,
      Device device, Consumer<List<FloatBuffer>> created) {
    OnnxPolicyExporter.checkWeights(c, w);
    return create(env, proto, StoredWeights.fp32(c, null), w, threads, device, false, created);
  }

  /**
   * A session over a proto from {@link OnnxPolicyExporter#buildWithExternalWeights(ModelConfig, LoraConfig, Map,
   * OnnxPolicyExporter.Logits)}: the base weights of {@code c} from {@code base} as in
   * {@link #create(OrtEnvironment, byte[], ModelConfig, TensorSource, int, Device)}, and zeros as the defaults of the
   * adapter inputs ({@link OnnxPolicyExporter#zeroAdapter}), so the session run without adapter inputs is the base
   * model. The adapter itself comes with each run, as an active OrtLoraAdapter of its run options
   * ({@link OrtRolloutEngine}).
   */
  public static OnnxPolicySession createLora(OrtEnvironment env, byte[] proto, ModelConfig c, LoraConfig lora,
      TensorSource base, int threads, Device device) {
    OnnxPolicyExporter.checkWeights(c, base);
    TensorSource initializers = OnnxPolicyExporter.withAdapterDefaults(c, lora, base);
    return create(env, proto, StoredWeights.fp32(c, lora), initializers, threads, device, true, buffers -> {});
  }

  /**
   * A session over a proto from {@link OnnxPolicyExporter#buildWithExternalWeights(StoredWeights, Map,
   * OnnxPolicyExporter.Logits)} with each stored tensor encoded from the float32 weights in {@code w} (quantized,
   * halved or copied, {@link StoredWeights#encode}) into a direct buffer; the buffers are freed once the session has
   * copied them, as for float32 weights.
   */
  public static OnnxPolicySession create(OrtEnvironment env, byte[] proto, StoredWeights stored, TensorSource w,
      int threads, Device device) {
    OnnxPolicyExporter.checkWeights(stored.config(), w);
    return create(env, proto, stored, w, threads, device, false, buffers -> {});
  }

  /**
   * The session with each tensor {@code stored} lists encoded from {@code w} into a direct buffer (a float32 tensor is
   * read straight into its buffer, the others through one float32 staging buffer); {@code created} gets the float32
   * tensors' buffers once the session exists, before they are freed.
   * {@code overridable}: the graph has initializers that are also inputs (the LoRA adapter); ONNX Runtime warns at
   * creation, once per such initializer, that it will not constant-fold them, which is the point, so the session
   * logs errors only; and it does not prepack (the session is resident for the whole run).
   */
  private static OnnxPolicySession create(OrtEnvironment env, byte[] proto, StoredWeights stored, TensorSource w,
      int threads, Device device, boolean overridable, Consumer<List<FloatBuffer>> created) {
    OrtSession.SessionOptions opts = options(threads, device);
    if (overridable) {
      try {
        opts.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
        // A LoRA session lives through the whole run beside TensorFlow's frozen base: no prepacked second copy of
        // every matrix (at Llama-3.2-1B 4.9 GB less; decoding about a fifth slower, OrtSyncMemoryBench at 0.5B)
        opts.addConfigEntry("session.disable_prepacking", "1");
      } catch (OrtException e) {
        opts.close();
        throw new IllegalStateException("ONNX Runtime refused a session log level", e);
      }
    }
    List<ByteBuffer> memory = new ArrayList<>();
    List<FloatBuffer> values = new ArrayList<>();
    List<OnnxTensor> tensors = new ArrayList<>();
    try {
      ByteBuffer source = stored.allFloat32() ? null
          : NativeBuffers.allocate(stored.largestSourceElements() * Float.BYTES);
      if (source != null) {
        memory.add(source);
      }
      Map<String, OnnxTensorLike> initializers = new LinkedHashMap<>();
      for (StoredWeights.Tensor t : stored.tensors().values()) {
        ByteBuffer bytes = NativeBuffers.allocate(t.bytes());
        memory.add(bytes);
        stored.encode(t, w, source == null ? null : source.clear().asFloatBuffer(), bytes);
        OnnxJavaType type = switch (t.type()) {
          case FLOAT -> OnnxJavaType.FLOAT;
          case FLOAT16 -> OnnxJavaType.FLOAT16;
          case INT8 -> OnnxJavaType.INT8;
          case UINT8 -> OnnxJavaType.UINT8;
          default -> throw new IllegalStateException("no ONNX Runtime type for " + t.type());
        };
        ByteBuffer data = bytes.order(ByteOrder.nativeOrder());
        if (type == OnnxJavaType.FLOAT) {
          values.add(data.asFloatBuffer());
        }
        OnnxTensor tensor = OnnxTensor.createTensor(env, data, t.dims(), type);
        tensors.add(tensor);
        initializers.put(t.name(), tensor);
      }
      opts.addExternalInitializers(initializers);
      OrtSession session = env.createSession(proto, opts);
      created.accept(values);
      return new OnnxPolicySession(session, opts);
    } catch (OrtException | RuntimeException e) {
      opts.close();
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new RlsrException("ONNX Runtime refused the policy graph with the given weights"
          + (stored.dtype() == ExportDtype.FP32 ? "" : " (" + stored.dtype() + ")") + ": " + e.getMessage(), e);
    } finally {
      tensors.forEach(OnnxTensor::close);
      memory.forEach(NativeBuffers::free);
    }
  }

  /** {@link #open(OrtEnvironment, Path, int, Device)} for a device named "cpu" or "cuda". */
  public static OnnxPolicySession open(OrtEnvironment env, Path modelOnnx, int threads, String device) {
    return open(env, modelOnnx, threads, Device.parse(device));
  }

  /** A session over a model file written by {@link OnnxPolicyExporter#writeModel} (weights inside or beside it). */
  public static OnnxPolicySession open(OrtEnvironment env, Path modelOnnx, int threads, Device device) {
    OrtSession.SessionOptions opts = options(threads, device);
    try {
      return new OnnxPolicySession(env.createSession(modelOnnx.toString(), opts), opts);
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
}
