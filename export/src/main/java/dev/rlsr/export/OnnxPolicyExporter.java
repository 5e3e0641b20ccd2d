// The policy (Hugging Face Llama/Qwen2 causal LM) as an ONNX graph with a KV cache, in the I/O convention of
// Hugging Face Optimum / ONNX Runtime GenAI; used for rollouts in ONNX Runtime and as the serving export.
package dev.rlsr.export;

import static dev.rlsr.export.OnnxBlocks.attention;
import static dev.rlsr.export.OnnxBlocks.attentionBias;
import static dev.rlsr.export.OnnxBlocks.linear;
import static dev.rlsr.export.OnnxBlocks.rmsNorm;
import static dev.rlsr.export.OnnxBlocks.rotary;
import static dev.rlsr.export.OnnxBlocks.rotaryTables;
import static dev.rlsr.export.OnnxBlocks.splitHeads;
import static dev.rlsr.export.OnnxGraph.attr;
import static dev.rlsr.export.OnnxGraph.in;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.model.family.Architecture;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.NativeBuffers;
import dev.rlsr.policy.util.RlsrException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the ONNX graph of the policy.
 *
 * <p>Inputs: {@code input_ids} [batch_size, sequence_length] int64, {@code attention_mask} [batch_size,
 * total_sequence_length] int64 (1 = real token), {@code position_ids} [batch_size, sequence_length] int64, and per
 * layer i {@code past_key_values.i.key} / {@code .value} [batch_size, kv_heads, past_sequence_length, head_dim]
 * float32 (an empty past has a zero dim). Outputs: {@code logits} [batch_size, sequence_length, vocab] float32 and
 * {@code present.i.key} / {@code .value} [batch_size, kv_heads, total_sequence_length, head_dim]: past and new
 * concatenated on axis 2, keys after rotary. (Rollout graphs may ask for the last position's logits only:
 * {@link Logits#LAST}, logits [batch_size, 1, vocab].)
 *
 * <p>Masking (the rule of every rlsr backend): the query at absolute index past+t sees key j iff
 * {@code j <= past+t} and {@code attention_mask[b, j] == 1}; other keys get the additive
 * {@link dev.rlsr.policy.model.Attention#MASKED_SCORE} (-1e9) before the softmax.
 *
 * <p>The blocks come from {@link OnnxBlocks}; how a family differs from plain Llama from
 * {@link ModelConfig#architecture()} (q/k/v biases for qwen2), never from its model_type.
 *
 * <p>Weights are initializers named exactly like the Hugging Face tensors ({@code model.layers.0.self_attn.q_proj.weight},
 * ...), stored in HF layout [out, in]; each linear layer is {@code Gemm(x, W, b, transB=1)} on the flattened
 * [batch*seq, d] residual stream. So weight sync needs nothing but the HF tensors (see {@link #checkWeights}),
 * and no transposed copy is made at session creation.
 *
 * <p>LoRA: given a {@link LoraConfig}, each adapted linear layer adds {@code scale · B (A x)} to its Gemm, with A and
 * B graph inputs that default to zeros (overridable initializers named by {@link LoraConfig#layout}); run without
 * them the graph is the base model. Rollouts feed them through an active {@code OrtLoraAdapter}
 * ({@link OnnxAdapterFormat}); the serving export is {@link #writeModelWithAdapter}.
 */
public final class OnnxPolicyExporter {
  /** Pinned opset of the default ONNX domain. */
  public static final int OPSET = 17;
  public static final String PRODUCER_NAME = "rlsr";
  /** Metadata key holding the model's config.json. */
  public static final String CONFIG_METADATA_KEY = "rlsr.config";
  /** Data file named in the external-data declarations of {@link #buildWithExternalWeights}. */
  public static final String EXTERNAL_DATA_FILE = "model.onnx_data";
  /**
   * Above this many weight bytes {@link #writeModel} writes a data file: 1 GiB keeps clear of protobuf's 2 GiB cap on
   * one message, which a 0.5B model (1.98 GB of float32) would otherwise all but fill.
   */
  static final long EMBED_LIMIT_BYTES = 1L << 30;
  /** Offsets of tensors in an external data file are multiples of this (page size, so ORT can mmap them). */
  static final long DATA_ALIGNMENT = 4096;

  private OnnxPolicyExporter() {}

  /** Positions that get logits. */
  public enum Logits {
    /** Every input position: {@code logits} [batch_size, sequence_length, vocab] (the Hugging Face convention). */
    ALL,
    /** Only the last input position: {@code logits} [batch_size, 1, vocab]. */
    LAST,
    /**
     * No logits and no KV cache: the feature-extraction graph of a decoder embedder ({@link #writeEncoder}). Inputs
     * {@code input_ids}, {@code attention_mask} and {@code position_ids} [batch_size, sequence_length]; output
     * {@code last_hidden_state} [batch_size, sequence_length, hidden] after the final norm, as Optimum names it.
     */
    HIDDEN_STATES
  }

  /** The output of a {@link Logits#HIDDEN_STATES} graph (Optimum's feature-extraction name). */
  public static final String LAST_HIDDEN_STATE = "last_hidden_state";

  /**
   * Writes the feature-extraction graph ({@link Logits#HIDDEN_STATES}) of {@code c} over {@code w} to {@code modelOnnx}:
   * the same decoder layers as the policy, without KV cache and LM head. Weights go inside the file up to
   * {@value #EMBED_LIMIT_BYTES} bytes, else into {@code <file name>_data} beside it (a 0.6B model: 2.4 GB). The
   * layout of {@code c} must have no lm_head (a tied config: see {@code DecoderEncoderGraphs}).
   */
  public static void writeEncoder(ModelConfig c, TensorSource w, Path modelOnnx) {
    writeModel(StoredWeights.fp32(c, null), null, w, modelOnnx, Map.of(), EMBED_LIMIT_BYTES, Logits.HIDDEN_STATES);
  }

  /** Metadata key saying which positions get logits ("all" or "last"). */
  public static final String LOGITS_METADATA_KEY = "rlsr.logits";
  /** Metadata key of a graph with LoRA adapter inputs: the adapter's {@code {"r", "lora_alpha", "target_modules"}}. */
  public static final String LORA_METADATA_KEY = "rlsr.lora";

  /** How the graph gets the bytes of a weight. */
  interface WeightSource {
    String declare(OnnxGraph g, StoredWeights.Tensor t);
  }

  // ==================================================================== public API

  /**
   * Writes a self-contained serving model: weights inside {@code modelOnnx}, or, above {@value #EMBED_LIMIT_BYTES}
   * bytes of weights, in {@code <modelOnnx file name>_data} (Optimum's model.onnx_data) beside it (ONNX external data,
   * 4 KiB aligned). Either way the weights are streamed to the file one tensor at a time.
   *
   * @param metadata extra metadata_props (e.g. the resolved run config); may not redefine {@value #CONFIG_METADATA_KEY}
   */
  public static void writeModel(ModelWeights w, Path modelOnnx, Map<String, String> metadata) {
    writeModel(w.config(), w, modelOnnx, metadata, EMBED_LIMIT_BYTES);
  }

  /** {@link #writeModel(ModelWeights, Path, Map)} from the weights of {@code c}'s layout in {@code w}. */
  public static void writeModel(ModelConfig c, TensorSource w, Path modelOnnx, Map<String, String> metadata) {
    writeModel(c, w, modelOnnx, metadata, EMBED_LIMIT_BYTES);
  }

  /** {@link #writeModel} with the embedding limit as a parameter (tests use a tiny one). */
  static void writeModel(ModelWeights w, Path modelOnnx, Map<String, String> metadata, long embedLimitBytes) {
    writeModel(w.config(), w, modelOnnx, metadata, embedLimitBytes);
  }

  static void writeModel(ModelConfig c, TensorSource w, Path modelOnnx, Map<String, String> metadata,
      long embedLimitBytes) {
    writeModel(c, null, w, modelOnnx, metadata, embedLimitBytes);
  }

  /**
   * {@link #writeModel(ModelConfig, TensorSource, Path, Map)} for the graph with the inputs of {@code lora}'s adapter
   * ({@link #buildWithExternalWeights(ModelConfig, LoraConfig, Map, Logits)}, every position's logits): the base
   * weights from {@code base}, zeros as the adapter inputs' defaults (written like the weights, inside or in the data
   * file), so the model run without adapter inputs is the base. The adapter goes beside it in ONNX Runtime's format
   * ({@link OnnxAdapterFormat#write}; see {@link #writeModelWithAdapter}).
   */
  public static void writeModel(ModelConfig c, LoraConfig lora, TensorSource base, Path modelOnnx,
      Map<String, String> metadata) {
    writeModel(c, lora, base, modelOnnx, metadata, EMBED_LIMIT_BYTES);
  }

  /**
   * The serving export of a LoRA policy into {@code dir}: {@code model.onnx} (and {@code model.onnx_data} above
   * {@value #EMBED_LIMIT_BYTES} bytes) by {@link #writeModel(ModelConfig, LoraConfig, TensorSource, Path, Map)}, and
   * {@code adapter.onnx_adapter} ({@link #ADAPTER_FILE}) with the adapter tensors of {@code adapter}. A consumer loads
   * the adapter with {@code OrtLoraAdapter.create(path)} and runs with {@code RunOptions.addActiveLoraAdapter}; the
   * same model serves other adapters of the same LoraConfig.
   *
   * @param adapterVersion the format's {@code adapter_version} (e.g. the training iteration)
   */
  public static void writeModelWithAdapter(ModelConfig c, LoraConfig lora, TensorSource base, TensorSource adapter,
      int adapterVersion, Path dir, Map<String, String> metadata) {
    checkAdapter(c, lora, adapter); // before anything is written
    writeModel(c, lora, base, dir.resolve("model.onnx"), metadata, EMBED_LIMIT_BYTES);
    OnnxAdapterFormat.write(c, lora, adapter, adapterVersion, dir.resolve(ADAPTER_FILE));
  }

  /** The adapter file {@link #writeModelWithAdapter} writes beside {@code model.onnx}. */
  public static final String ADAPTER_FILE = "adapter" + OnnxAdapterFormat.EXTENSION;

  static void writeModel(ModelConfig c, LoraConfig lora, TensorSource base, Path modelOnnx,
      Map<String, String> metadata, long embedLimitBytes) {
    writeModel(StoredWeights.fp32(c, lora), lora, base, modelOnnx, metadata, embedLimitBytes);
  }

  /**
   * A serving model whose weights are stored as {@code stored} says (float32, float16, int8 or 4-bit: see
   * {@link StoredWeights}), streamed like {@link #writeModel(ModelConfig, TensorSource, Path, Map)}: inside the file
   * up to {@value #EMBED_LIMIT_BYTES} bytes of stored weights, else in {@code <file name>_data} beside it. The graph,
   * its inputs and outputs (KV cache included) are those of the float32 export; the metadata records the dtype
   * under {@value #QUANTIZATION_METADATA_KEY}.
   */
  public static void writeModel(StoredWeights stored, TensorSource base, Path modelOnnx, Map<String, String> metadata) {
    writeModel(stored, null, base, modelOnnx, metadata, EMBED_LIMIT_BYTES);
  }

  /** Metadata key of the stored dtype ({@link StoredWeights#describe}) of an export that is not float32. */
  public static final String QUANTIZATION_METADATA_KEY = "rlsr.quantization";

  static void writeModel(StoredWeights stored, LoraConfig lora, TensorSource base, Path modelOnnx,
      Map<String, String> metadata, long embedLimitBytes) {
    writeModel(stored, lora, base, modelOnnx, metadata, embedLimitBytes, Logits.ALL);
  }

  /** The serving writer, for every position's logits or ({@link Logits#HIDDEN_STATES}) the encoder graph. */
  static void writeModel(StoredWeights stored, LoraConfig lora, TensorSource base, Path modelOnnx,
      Map<String, String> metadata, long embedLimitBytes, Logits which) {
    ModelConfig c = stored.config();
    checkWeights(c, base);
    TensorSource w = lora == null ? base : withAdapterDefaults(c, lora, base);
    if (stored.dtype() != ExportDtype.FP32) {
      LinkedHashMap<String, String> m = new LinkedHashMap<>(metadata);
      try {
        m.put(QUANTIZATION_METADATA_KEY, Json.MAPPER.writeValueAsString(stored.describe()));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
      metadata = m;
    }
    boolean embed = stored.totalBytes() <= embedLimitBytes;
    String location = modelOnnx.getFileName() + "_data";
    Path dataFile = modelOnnx.resolveSibling(location);
    LinkedHashMap<String, Long> offsets = externalOffsets(stored);
    try {
      Path parent = modelOnnx.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(modelOnnx), 1 << 20)) {
        if (embed) {
          writeEmbedded(stored, lora, w, metadata, which, out);
        } else {
          build(c, lora, metadata, which, (g, t) -> g.externalTensor(t.name(), t.type(), t.dims(), location,
              offsets.get(t.name()), t.bytes()), stored).writeTo(out);
        }
      }
      if (!embed) {
        writeExternalData(stored, w, dataFile, offsets);
      }
    } catch (IOException e) {
      throw new RlsrException(modelOnnx + ": cannot write the ONNX model: " + e.getMessage(), e);
    }
  }

  /**
   * The model proto with every weight declared EXTERNAL (location {@value #EXTERNAL_DATA_FILE}, offset, length)
   * and no weight bytes: small, built once per config. Sessions get the weights from
   * {@code SessionOptions.addExternalInitializers} ({@link dev.rlsr.export.runtime.OnnxPolicySessions#create});
   * the file need not exist.
   */
  public static byte[] buildWithExternalWeights(ModelConfig c, Map<String, String> metadata) {
    return buildWithExternalWeights(c, metadata, Logits.ALL);
  }

  /**
   * As {@link #buildWithExternalWeights(ModelConfig, Map)}, choosing which positions get logits: {@link Logits#LAST}
   * suits rollouts (with left padding the last position of every row is its next-token position) and skips the
   * [batch, seq, vocab] prefill logits, the largest tensor of a big-vocabulary model.
   */
  public static byte[] buildWithExternalWeights(ModelConfig c, Map<String, String> metadata, Logits logits) {
    return buildWithExternalWeights(c, null, metadata, logits);
  }

  /**
   * As {@link #buildWithExternalWeights(ModelConfig, Map, Logits)}, with the inputs of a LoRA adapter of
   * {@code lora} (null: none, the plain graph): every adapted linear layer computes {@code W x + scale · B (A x)}.
   *
   * <p>Each adapter tensor ({@link LoraConfig#layout}: {@code <prefix>.lora_A.weight} [r, in],
   * {@code <prefix>.lora_B.weight} [out, r]) is a graph input that is also an initializer of the same name: an
   * overridable initializer (ONNX IR >= 4; this graph is IR 8). Fed, it is the adapter; not fed, its default is used.
   * The defaults are declared EXTERNAL after the base weights, like them; a session takes zeros for them
   * ({@link #zeroAdapter}), so the graph run without adapter inputs is the base model. The scale alpha / r is a
   * constant of the graph (the {@code alpha} attribute of the Gemm that adds the update), so one graph serves one
   * LoraConfig: r fixes the shapes anyway, and a run cannot feed a scale that disagrees with the adapter trained.
   */
  public static byte[] buildWithExternalWeights(ModelConfig c, LoraConfig lora, Map<String, String> metadata,
      Logits logits) {
    return buildWithExternalWeights(StoredWeights.fp32(c, lora), lora, metadata, logits);
  }

  /**
   * As {@link #buildWithExternalWeights(ModelConfig, Map, Logits)} for weights stored as {@code stored} says (a
   * quantized rollout session: {@link dev.rlsr.export.runtime.OnnxPolicySessions#create(ai.onnxruntime.OrtEnvironment,
   * byte[], StoredWeights, TensorSource, int, Device)}): every stored tensor EXTERNAL, none of their bytes.
   */
  public static byte[] buildWithExternalWeights(StoredWeights stored, Map<String, String> metadata, Logits logits) {
    return buildWithExternalWeights(stored, null, metadata, logits);
  }

  private static byte[] buildWithExternalWeights(StoredWeights stored, LoraConfig lora, Map<String, String> metadata,
      Logits logits) {
    LinkedHashMap<String, Long> offsets = externalOffsets(stored);
    return build(stored.config(), lora, metadata, logits, (g, t) -> g.externalTensor(t.name(), t.type(), t.dims(),
        EXTERNAL_DATA_FILE, offsets.get(t.name()), t.bytes()), stored).toByteArray();
  }

  /**
   * Every tensor a graph of {@code c} with {@code lora}'s adapter inputs (null: none) holds as initializers, in the
   * order they are declared: the base weights ({@link ModelWeights#layout}), then the adapter ({@link LoraConfig#layout}).
   */
  public static LinkedHashMap<String, long[]> initializerLayout(ModelConfig c, LoraConfig lora) {
    LinkedHashMap<String, long[]> out = new LinkedHashMap<>(ModelWeights.layout(c));
    if (lora != null) {
      lora.layout(c).forEach((name, shape) -> {
        if (out.put(name, shape) != null) {
          throw new IllegalStateException("adapter tensor " + name + " clashes with a base weight");
        }
      });
    }
    return out;
  }

  /**
   * The initializers of a LoRA graph ({@link #initializerLayout}) as one source: the weights of {@code c}'s layout
   * from {@code base}, the adapter tensors as {@link #zeroAdapter}'s zeros (the adapter inputs' defaults) whatever
   * else {@code base} holds. The serving export writes these, and a LoRA rollout session is made from them.
   */
  public static TensorSource withAdapterDefaults(ModelConfig c, LoraConfig lora, TensorSource base) {
    TensorSource zeros = zeroAdapter(c, lora);
    LinkedHashMap<String, long[]> layout = initializerLayout(c, lora);
    LinkedHashMap<String, long[]> baseLayout = ModelWeights.layout(c);
    return new TensorSource() {
      @Override
      public LinkedHashMap<String, long[]> shapes() {
        return TensorSource.copyShapes(layout);
      }

      @Override
      public FloatTensor read(String name) {
        return (baseLayout.containsKey(name) ? base : zeros).read(name);
      }

      @Override
      public void readInto(String name, java.nio.FloatBuffer dst) {
        (baseLayout.containsKey(name) ? base : zeros).readInto(name, dst);
      }
    };
  }

  /** The adapter of {@code lora} on {@code c} with every A and B zero: the defaults of the adapter inputs. */
  public static TensorSource zeroAdapter(ModelConfig c, LoraConfig lora) {
    LinkedHashMap<String, long[]> layout = lora.layout(c);
    return new TensorSource() {
      @Override
      public LinkedHashMap<String, long[]> shapes() {
        return TensorSource.copyShapes(layout);
      }

      @Override
      public FloatTensor read(String name) {
        long[] shape = layout.get(name);
        if (shape == null) {
          throw new IllegalArgumentException("no tensor " + name);
        }
        return FloatTensor.zeros(shape);
      }

      @Override
      public void readInto(String name, java.nio.FloatBuffer dst) {
        long[] shape = layout.get(name);
        if (shape == null) {
          throw new IllegalArgumentException("no tensor " + name);
        }
        for (long i = FloatTensor.numel(shape); i > 0; i--) {
          dst.put(0f);
        }
      }
    };
  }

  /**
   * Every tensor of {@code lora}'s adapter on {@code c} ({@link LoraConfig#layout}) present in {@code adapter} with
   * its shape; other tensors of the source are ignored. Refusals name the tensor and the LoRA flags.
   */
  public static void checkAdapter(ModelConfig c, LoraConfig lora, TensorSource adapter) {
    LinkedHashMap<String, long[]> have = adapter.shapes();
    for (Map.Entry<String, long[]> e : lora.layout(c).entrySet()) {
      long[] shape = have.get(e.getKey());
      if (shape == null) {
        throw new RlsrException("LoRA adapter: no tensor \"" + e.getKey() + "\"; an adapter of r=" + lora.r()
            + " on " + String.join(",", lora.targetModules()) + " has " + lora.layout(c).size() + " tensors <prefix>"
            + ".lora_A.weight / .lora_B.weight (--lora-r and --lora-target-modules must match the adapter trained)");
      }
      if (!Arrays.equals(shape, e.getValue())) {
        throw new RlsrException("LoRA adapter: tensor \"" + e.getKey() + "\" has shape " + Arrays.toString(shape)
            + ", expected " + Arrays.toString(e.getValue()) + " (r=" + lora.r() + "; --lora-r must match the adapter)");
      }
    }
  }

  /** The model proto with the weights inside (raw_data), built in memory: small models only (tests, benchmarks). */
  static OnnxMl.ModelProto buildEmbedded(ModelWeights w, Map<String, String> metadata) {
    checkWeights(w.config(), w);
    return build(w.config(), metadata, Logits.ALL, (g, t) -> g.weight(t.name(), w.get(t.name())));
  }

  /**
   * Every layout tensor of {@code c} present in {@code w} with its shape, so the graph and the weights agree; refusals
   * name the tensor. What a session over {@link #buildWithExternalWeights} takes as initializers: the HF tensors
   * themselves, by HF name, in layout order (a tied lm_head reuses {@code model.embed_tokens.weight}).
   */
  public static void checkWeights(ModelConfig c, TensorSource w) {
    LinkedHashMap<String, long[]> have = w.shapes();
    for (Map.Entry<String, long[]> e : ModelWeights.layout(c).entrySet()) {
      long[] shape = have.get(e.getKey());
      if (shape == null) {
        throw new RlsrException("ONNX export: weights lack tensor \"" + e.getKey() + "\" that config.json implies");
      }
      if (!Arrays.equals(shape, e.getValue())) {
        throw new RlsrException("ONNX export: tensor \"" + e.getKey() + "\" has shape " + Arrays.toString(shape)
            + ", config.json implies " + Arrays.toString(e.getValue()));
      }
    }
  }

  // ==================================================================== the graph, in forward-pass order

  static OnnxMl.ModelProto build(ModelConfig c, Map<String, String> metadata, Logits which, WeightSource weights) {
    return build(c, null, metadata, which, weights);
  }

  /** The graph; with {@code lora} (null: none) the adapter's tensors are declared after the weights and are inputs. */
  static OnnxMl.ModelProto build(ModelConfig c, LoraConfig lora, Map<String, String> metadata, Logits which,
      WeightSource weights) {
    return build(c, lora, metadata, which, weights, StoredWeights.fp32(c, lora));
  }

  /** The graph over weights stored as {@code stored} says: float32, float16 cast back, or quantized linear layers. */
  static OnnxMl.ModelProto build(ModelConfig c, LoraConfig lora, Map<String, String> metadata, Logits which,
      WeightSource weights, StoredWeights stored) {
    if (lora != null && stored.dtype() != ExportDtype.FP32) {
      throw new IllegalArgumentException("a graph with LoRA adapter inputs is float32");
    }
    OnnxGraph g = new OnnxGraph("rlsr_policy", OPSET);
    int nh = c.numHeads();
    int nkv = c.numKvHeads();
    int hd = c.headDim();
    Architecture arch = c.architecture();
    arch.requireImplemented("ONNX graph");

    // ---- inputs
    String ids = g.input(PolicyIo.INPUT_IDS, DataType.INT64, "batch_size", "sequence_length");
    String mask = g.input(PolicyIo.ATTENTION_MASK, DataType.INT64, "batch_size", "total_sequence_length");
    String pos = g.input(PolicyIo.POSITION_IDS, DataType.INT64, "batch_size", "sequence_length");
    boolean encoder = which == Logits.HIDDEN_STATES; // no KV cache, no LM head
    if (encoder && (lora != null || !c.tieWordEmbeddings())) {
      throw new IllegalArgumentException("the encoder graph takes no LoRA inputs and a layout without lm_head (tied)");
    }
    String[] pastK = new String[c.numLayers()];
    String[] pastV = new String[c.numLayers()];
    for (int i = 0; i < c.numLayers() && !encoder; i++) {
      pastK[i] = g.input(PolicyIo.pastKey(i), DataType.FLOAT, "batch_size", (long) nkv, "past_sequence_length", (long) hd);
      pastV[i] = g.input(PolicyIo.pastValue(i), DataType.FLOAT, "batch_size", (long) nkv, "past_sequence_length", (long) hd);
    }

    // ---- weights (HF names and layout; then a LoRA adapter's, in rlsr names), as stored
    for (StoredWeights.Tensor t : stored.tensors().values()) {
      weights.declare(g, t);
    }
    // a float16 matrix becomes its float32 self again (ONNX Runtime folds the Cast when it loads the model)
    for (String name : stored.halved()) {
      g.node(name, "Cast", in(name + StoredWeights.FP16_SUFFIX), attr("to", (long) DataType.FLOAT.getNumber()));
    }
    // ---- LoRA adapter: its initializers are also inputs, so a run may feed them
    OnnxBlocks.Adapter adapter = OnnxBlocks.Adapter.of(lora, c);
    if (lora != null) {
      for (Map.Entry<String, long[]> e : lora.layout(c).entrySet()) {
        g.overridableInput(e.getKey(), e.getValue());
      }
    }

    // ---- shared constants
    g.constFloats("const/rms_norm_eps", new long[] {}, (float) c.rmsNormEps());
    g.constFloats("const/attention_scale", new long[] {}, (float) (1.0 / Math.sqrt(hd)));
    g.shapeConst("const/axis_last", -1);

    // The residual stream is kept flat, [N = B*S, d], so every linear layer is one Gemm over the HF weight.
    // Shapes to split heads out of it again: [B, S, heads, hd] with B inferred.
    String seqLen1d = g.node("shape/S", "Shape", in(ids), attr("start", 1L), attr("end", 2L));             // [1] = {S}
    String qHeadsShape = g.node("shape/q_heads", "Concat", in(g.shapeConst("shape/minus_one", -1), seqLen1d,
        g.shapeConst("shape/q_heads_tail", nh, hd)), attr("axis", 0L));                                     // {-1, S, nh, hd}
    String kvHeadsShape = g.node("shape/kv_heads", "Concat", in("shape/minus_one", seqLen1d,
        g.shapeConst("shape/kv_heads_tail", nkv, hd)), attr("axis", 0L));                                   // {-1, S, nkv, hd}

    // h = embed_tokens[input_ids]                                            [N, d]
    String flatIds = g.node("model/input_ids_flat", "Reshape", in(ids, "shape/minus_one"));                // [N]
    String h = g.node("model/embed_tokens", "Gather", in("model.embed_tokens.weight", flatIds), attr("axis", 0L));

    // Rotary cos/sin from position_ids                                       [B, 1, S, hd] each
    String[] cosSin = rotaryTables(g, c, pos);
    // Additive attention bias from attention_mask and the causal rule        [B, 1, 1, S, T]
    String bias = attentionBias(g, ids, mask);

    for (int i = 0; i < c.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      String s = "model/layers." + i;

      // ---- self-attention
      String x = rmsNorm(g, s + "/input_layernorm", h, p + "input_layernorm.weight");                  // [N, d]
      String q = linear(g, s + "/self_attn/q_proj", x, p + "self_attn.q_proj", arch.qkvBias(), adapter, stored);        // [N, nh*hd]
      String k = linear(g, s + "/self_attn/k_proj", x, p + "self_attn.k_proj", arch.qkvBias(), adapter, stored);        // [N, nkv*hd]
      String v = linear(g, s + "/self_attn/v_proj", x, p + "self_attn.v_proj", arch.qkvBias(), adapter, stored);        // [N, nkv*hd]
      q = splitHeads(g, s + "/self_attn/q", q, qHeadsShape);                                            // [B, nh, S, hd]
      k = splitHeads(g, s + "/self_attn/k", k, kvHeadsShape);                                           // [B, nkv, S, hd]
      v = splitHeads(g, s + "/self_attn/v", v, kvHeadsShape);                                           // [B, nkv, S, hd]
      if (arch.qkNorm()) { // Qwen3: RMSNorm of every query and key head over head_dim, before rotary
        q = rmsNorm(g, s + "/self_attn/q_norm", q, p + "self_attn.q_norm.weight");                      // [B, nh, S, hd]
        k = rmsNorm(g, s + "/self_attn/k_norm", k, p + "self_attn.k_norm.weight");                      // [B, nkv, S, hd]
      }
      q = rotary(g, s + "/self_attn/q_rotary", q, cosSin);
      k = rotary(g, s + "/self_attn/k_rotary", k, cosSin);
      // KV cache: past ++ new on the sequence axis                                                      [B, nkv, T, hd]
      String keys = encoder ? k : g.node(PolicyIo.presentKey(i), "Concat", in(pastK[i], k), attr("axis", 2L));
      String values = encoder ? v : g.node(PolicyIo.presentValue(i), "Concat", in(pastV[i], v), attr("axis", 2L));
      String ctx = attention(g, c, s + "/self_attn", q, keys, values, bias);                            // [N, nh*hd]
      String o = linear(g, s + "/self_attn/o_proj", ctx, p + "self_attn.o_proj", false, adapter, stored);                // [N, d]
      h = g.node(s + "/attn_residual", "Add", in(h, o));

      // ---- SwiGLU MLP: down(silu(gate(x)) * up(x))
      String x2 = rmsNorm(g, s + "/post_attention_layernorm", h, p + "post_attention_layernorm.weight"); // [N, d]
      String gate = linear(g, s + "/mlp/gate_proj", x2, p + "mlp.gate_proj", false, adapter, stored);                     // [N, I]
      String up = linear(g, s + "/mlp/up_proj", x2, p + "mlp.up_proj", false, adapter, stored);                           // [N, I]
      String sig = g.node(s + "/mlp/gate_sigmoid", "Sigmoid", in(gate));
      String silu = g.node(s + "/mlp/gate_silu", "Mul", in(gate, sig));
      String prod = g.node(s + "/mlp/gate_times_up", "Mul", in(silu, up));
      String down = linear(g, s + "/mlp/down_proj", prod, p + "mlp.down_proj", false, adapter, stored);                   // [N, d]
      h = g.node(s + "/mlp_residual", "Add", in(h, down));
    }

    String batchSeqShape = g.node("shape/B_S", "Shape", in(ids));                                          // {B, S}
    if (which == Logits.LAST) {
      // Keep only the last position of every row: [N, d] -> [B, S, d] -> [B, 1, d] -> [B, d]
      String h3 = g.node("model/hidden_bsd", "Reshape", in(h, g.node("shape/B_S_d", "Concat",
          in(batchSeqShape, g.shapeConst("shape/hidden", c.hiddenSize())), attr("axis", 0L))));
      String last = g.node("model/hidden_last", "Slice", in(h3, g.shapeConst("shape/last_start", -1),
          g.shapeConst("shape/last_end", Long.MAX_VALUE), g.shapeConst("shape/seq_axis", 1)));
      h = g.node("model/hidden_last_flat", "Reshape", in(last, g.shapeConst("shape/flat_hidden", -1, c.hiddenSize())));
    }
    String hn = rmsNorm(g, "model/norm", h, "model.norm.weight");                                        // [N or B, d]
    if (encoder) { // [N, d] -> [B, S, d]
      String hidden = g.node(LAST_HIDDEN_STATE, "Reshape", in(hn, g.node("shape/B_S_d", "Concat",
          in(batchSeqShape, g.shapeConst("shape/hidden", c.hiddenSize())), attr("axis", 0L))));
      g.output(hidden, DataType.FLOAT, "batch_size", "sequence_length", (long) c.hiddenSize());
      return g.model(PRODUCER_NAME, producerVersion(), metadata(c, null, which, metadata));
    }
    String lmHead = c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";             // [V, d]
    String flatLogits = stored.quantizes(StoredWeights.LM_HEAD)
        ? OnnxBlocks.quantizedMatMul(g, "lm_head/MatMul", hn, StoredWeights.LM_HEAD, null, stored)       // [N or B, V]
        : g.node("lm_head/Gemm", "Gemm", in(hn, lmHead), attr("transB", 1L));                           // [N or B, V]
    String logitsShape = which == Logits.LAST
        ? g.shapeConst("shape/logits", -1, 1, c.vocabSize())                                             // {B, 1, V}
        : g.node("shape/logits", "Concat", in(batchSeqShape, g.shapeConst("shape/vocab", c.vocabSize())),
            attr("axis", 0L));                                                                           // {B, S, V}
    String logits = g.node(PolicyIo.LOGITS, "Reshape", in(flatLogits, logitsShape));                     // [B, S or 1, V]

    // ---- outputs
    g.output(logits, DataType.FLOAT, "batch_size", which == Logits.LAST ? (Object) 1L : "sequence_length",
        (long) c.vocabSize());
    for (int i = 0; i < c.numLayers(); i++) {
      g.output(PolicyIo.presentKey(i), DataType.FLOAT, "batch_size", (long) nkv, "total_sequence_length", (long) hd);
      g.output(PolicyIo.presentValue(i), DataType.FLOAT, "batch_size", (long) nkv, "total_sequence_length", (long) hd);
    }
    return g.model(PRODUCER_NAME, producerVersion(), metadata(c, lora, which, metadata));
  }

  // ==================================================================== metadata, weights, files

  private static LinkedHashMap<String, String> metadata(ModelConfig c, LoraConfig lora, Logits which,
      Map<String, String> extra) {
    LinkedHashMap<String, String> m = new LinkedHashMap<>();
    try {
      m.put(CONFIG_METADATA_KEY, Json.MAPPER.writeValueAsString(c.toJson()));
      if (lora != null) {
        LinkedHashMap<String, Object> l = new LinkedHashMap<>();
        l.put("r", lora.r());
        l.put("lora_alpha", lora.alpha());
        l.put("target_modules", lora.targetModules());
        m.put(LORA_METADATA_KEY, Json.MAPPER.writeValueAsString(l));
      }
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    m.put(LOGITS_METADATA_KEY, which.name().toLowerCase(Locale.ROOT));
    if (extra != null) {
      for (Map.Entry<String, String> e : extra.entrySet()) {
        if (m.containsKey(e.getKey()) || e.getKey().equals(LORA_METADATA_KEY)) {
          throw new RlsrException("ONNX metadata key \"" + e.getKey() + "\" is reserved by rlsr (" + CONFIG_METADATA_KEY
              + ": the model's config.json, " + LOGITS_METADATA_KEY + ": which positions get logits, " + LORA_METADATA_KEY
              + ": the LoRA adapter's r, alpha and modules); use another key");
        }
        m.put(e.getKey(), e.getValue());
      }
    }
    return m;
  }

  static String producerVersion() {
    String v = OnnxPolicyExporter.class.getPackage().getImplementationVersion();
    return v != null ? v : "development";
  }

  /** Byte offset of each weight in an external data file, layout order, {@value #DATA_ALIGNMENT}-aligned. */
  static LinkedHashMap<String, Long> externalOffsets(ModelConfig c) {
    return externalOffsets(StoredWeights.fp32(c, null));
  }

  /** Byte offset of each stored tensor in an external data file, in file order, aligned. */
  static LinkedHashMap<String, Long> externalOffsets(StoredWeights stored) {
    LinkedHashMap<String, Long> offsets = new LinkedHashMap<>();
    long at = 0;
    for (StoredWeights.Tensor t : stored.tensors().values()) {
      offsets.put(t.name(), at);
      at += t.bytes();
      at = (at + DATA_ALIGNMENT - 1) / DATA_ALIGNMENT * DATA_ALIGNMENT;
    }
    return offsets;
  }

  /** The stored weights at their offsets in the data file, one tensor at a time through reused off-heap buffers. */
  private static void writeExternalData(StoredWeights stored, TensorSource w, Path dataFile,
      LinkedHashMap<String, Long> offsets) throws IOException {
    Staging stage = new Staging(stored);
    try (stage; FileChannel ch = FileChannel.open(dataFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      for (Map.Entry<String, Long> e : offsets.entrySet()) {
        ByteBuffer bytes = stage.encode(stored.tensors().get(e.getKey()), w);
        long at = e.getValue();
        while (bytes.hasRemaining()) {
          at += ch.write(bytes, at);
        }
      }
    }
  }

  /**
   * The model with the weights in raw_data, written as it is built instead of assembled in memory: the proto
   * without the weight bytes, then per weight its TensorProto header and its raw_data streamed from {@code w}.
   * Parsed back it equals {@link #buildEmbedded} (weights first among the initializers, as there).
   */
  private static void writeEmbedded(StoredWeights stored, LoraConfig lora, TensorSource w,
      Map<String, String> metadata, Logits which, OutputStream os) throws IOException {
    LinkedHashMap<String, StoredWeights.Tensor> layout = stored.tensors();
    OnnxMl.ModelProto model = build(stored.config(), lora, metadata, which,
        (g, t) -> g.tensorHeader(t.name(), t.type(), t.dims()), stored);
    OnnxMl.GraphProto.Builder rest = model.getGraph().toBuilder().clearInitializer();
    List<OnnxMl.TensorProto> headers = new ArrayList<>();
    for (OnnxMl.TensorProto t : model.getGraph().getInitializerList()) {
      if (layout.containsKey(t.getName())) {
        headers.add(t);
      } else {
        rest.addInitializer(t);
      }
    }
    OnnxMl.GraphProto others = rest.build();
    long graphLen = others.getSerializedSize();
    long[] tensorLen = new long[headers.size()];
    for (int i = 0; i < headers.size(); i++) {
      long data = layout.get(headers.get(i).getName()).bytes();
      tensorLen[i] = headers.get(i).getSerializedSize()
          + CodedOutputStream.computeTagSize(OnnxMl.TensorProto.RAW_DATA_FIELD_NUMBER)
          + CodedOutputStream.computeUInt64SizeNoTag(data) + data;
      graphLen += CodedOutputStream.computeTagSize(OnnxMl.GraphProto.INITIALIZER_FIELD_NUMBER)
          + CodedOutputStream.computeUInt64SizeNoTag(tensorLen[i]) + tensorLen[i];
    }
    try (Staging stage = new Staging(stored)) {
      CodedOutputStream out = CodedOutputStream.newInstance(os, 1 << 16);
      model.toBuilder().clearGraph().build().writeTo(out);
      out.writeTag(OnnxMl.ModelProto.GRAPH_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
      out.writeUInt64NoTag(graphLen);
      for (int i = 0; i < headers.size(); i++) {
        OnnxMl.TensorProto h = headers.get(i);
        out.writeTag(OnnxMl.GraphProto.INITIALIZER_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt64NoTag(tensorLen[i]);
        h.writeTo(out);
        ByteBuffer bytes = stage.encode(layout.get(h.getName()), w);
        out.writeTag(OnnxMl.TensorProto.RAW_DATA_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt64NoTag(bytes.remaining());
        out.write(bytes);
      }
      others.writeTo(out);
      out.flush();
    }
  }

  /** Off-heap buffers for {@link StoredWeights#encode}: the largest stored tensor, and a float32 source tensor. */
  private static final class Staging implements AutoCloseable {
    private final StoredWeights stored;
    private final ByteBuffer out;
    private final ByteBuffer source;

    Staging(StoredWeights stored) {
      this.stored = stored;
      this.out = NativeBuffers.allocate(stored.largestStoredBytes()).order(ByteOrder.LITTLE_ENDIAN);
      this.source = stored.allFloat32() ? null
          : NativeBuffers.allocate(stored.largestSourceElements() * Float.BYTES).order(ByteOrder.nativeOrder());
    }

    ByteBuffer encode(StoredWeights.Tensor t, TensorSource w) {
      return stored.encode(t, w, source == null ? null : source.clear().asFloatBuffer(), out);
    }

    @Override
    public void close() {
      NativeBuffers.free(out);
      if (source != null) {
        NativeBuffers.free(source);
      }
    }
  }
}
