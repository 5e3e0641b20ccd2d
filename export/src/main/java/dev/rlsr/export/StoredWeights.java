// What an ONNX export stores for its weights in a given dtype: each initializer's name, ONNX type and dims, and how
// its bytes are made from the float32 tensor it comes from (copied, halved to float16, or quantized), one at a time.
package dev.rlsr.export;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.RlsrException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The initializers of an export in {@link ExportDtype} {@code dtype}, in file order.
 *
 * <ul>
 *   <li>fp32: every weight as it is (and a LoRA graph's adapter defaults).
 *   <li>fp16: each matrix {@code W} (embeddings, the seven projections of every layer, an untied LM head) as
 *       {@code W_fp16} (FLOAT16), which a Cast in the graph turns back into {@code W}; norms and biases stay float32.
 *   <li>q8: each projection {@code P.weight} [N, K] as {@code P.weight_quantized} (INT8 [K, N], the layout
 *       DynamicQuantizeMatMul multiplies by) and {@code P.weight_scale} (FLOAT [N]): symmetric per output channel,
 *       scale = max|W[n, :]| / 127, q = round(W / scale).
 *   <li>q4: each projection as {@code P.weight_quantized} (UINT8 [N, K / block, block / 2], two 4-bit values a byte,
 *       the lower index in the low nibble, as MatMulNBits takes them) and {@code P.weight_scale} (FLOAT
 *       [N * K / block]): symmetric per block of {@code block} inputs, scale = max|w| / 7, stored q = round(w / scale)
 *       + 8 (MatMulNBits' default zero point).
 * </ul>
 *
 * <p>In q8 and q4 the embeddings and norms stay float32, and so does the LM head unless {@code quantizeLmHead} (a tied
 * head is then quantized as a copy {@code lm_head.weight_*} of the embeddings, which stay float for the lookup).
 */
public final class StoredWeights {
  /** How a stored tensor's bytes come from its float32 source. */
  public enum Kind { F32, F16, Q8, Q8_SCALE, Q4, Q4_SCALE }

  /** One initializer: its name and ONNX type, dims, byte length, and the source tensor ({@code sourceShape}). */
  public record Tensor(String name, DataType type, long[] dims, long bytes, String source, long[] sourceShape, Kind kind) {}

  /** The projections a q8 or q4 export quantizes (PEFT's all-linear), by the last part of their name. */
  static final List<String> PROJECTIONS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
      "down_proj");
  /** The name a quantized or float16 LM head is stored and multiplied under (its source may be the embeddings). */
  static final String LM_HEAD = "lm_head.weight";
  static final String QUANTIZED_SUFFIX = "_quantized";
  static final String SCALE_SUFFIX = "_scale";
  static final String FP16_SUFFIX = "_fp16";
  /** q4's default block: 32 inputs per scale, as ONNX Runtime's and Optimum's 4-bit quantizers default to. */
  public static final int DEFAULT_BLOCK_SIZE = 32;
  /**
   * The q4 accuracy level of rlsr export and quantized rollouts: 4, int8 compute. At the Qwen2.5-0.5B shape it
   * decoded at 125 tokens/s against 78-82 at level 0 with the same log-prob drift (rlsr bench dtypes). A
   * StoredWeights made by {@link #of} starts at 0 (float32 compute) until {@link #q4AccuracyLevel(int)} says otherwise.
   */
  public static final int DEFAULT_Q4_ACCURACY_LEVEL = 4;

  private final ModelConfig config;
  private final ExportDtype dtype;
  private final int blockSize;
  private final boolean quantizeLmHead;
  private int accuracyLevel;
  private final LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
  private final Set<String> quantized = new LinkedHashSet<>(); // source weight names multiplied by a quantized op
  private final Set<String> halved = new LinkedHashSet<>();    // weight names a Cast makes from a float16 initializer

  private StoredWeights(ModelConfig c, ExportDtype dtype, int blockSize, boolean quantizeLmHead) {
    this.config = c;
    this.dtype = dtype;
    this.blockSize = blockSize;
    this.quantizeLmHead = quantizeLmHead;
  }

  /** The float32 initializers of a graph of {@code c} with {@code lora}'s adapter defaults (null: none). */
  public static StoredWeights fp32(ModelConfig c, LoraConfig lora) {
    StoredWeights s = new StoredWeights(c, ExportDtype.FP32, DEFAULT_BLOCK_SIZE, false);
    OnnxPolicyExporter.initializerLayout(c, lora).forEach((name, shape) -> s.add(name, name, shape, Kind.F32));
    return s;
  }

  /**
   * The initializers of a plain (adapter-less) export of {@code c} in {@code dtype}.
   *
   * @param blockSize      q4 only: inputs per scale, a power of two of at least 16
   * @param quantizeLmHead q8 and q4: quantize the LM head too (it stays float32 otherwise)
   */
  public static StoredWeights of(ModelConfig c, ExportDtype dtype, int blockSize, boolean quantizeLmHead) {
    if (dtype == ExportDtype.Q4) {
      checkBlockSize(blockSize);
    }
    if (dtype == ExportDtype.FP32) {
      return fp32(c, null);
    }
    StoredWeights s = new StoredWeights(c, dtype, blockSize, quantizeLmHead && dtype.quantized());
    for (var e : ModelWeights.layout(c).entrySet()) {
      String name = e.getKey();
      long[] shape = e.getValue();
      boolean projection = isProjection(name);
      boolean head = name.equals(LM_HEAD);
      if (dtype == ExportDtype.FP16 && shape.length == 2) {
        s.add(name + FP16_SUFFIX, name, shape, Kind.F16);
        s.halved.add(name);
      } else if (dtype.quantized() && (projection || head && s.quantizeLmHead)) {
        s.addQuantized(name, name, shape);
      } else {
        s.add(name, name, shape, Kind.F32);
      }
    }
    if (s.quantizeLmHead && c.tieWordEmbeddings()) { // a quantized copy of the embeddings for the head alone
      String embed = "model.embed_tokens.weight";
      s.addQuantized(LM_HEAD, embed, ModelWeights.layout(c).get(embed));
    }
    return s;
  }

  /** A q4 block size MatMulNBits takes: a power of two of at least 16; refused naming the flag otherwise. */
  public static void checkBlockSize(int blockSize) {
    if (blockSize < 16 || Integer.bitCount(blockSize) != 1) {
      throw new RlsrException("--q4-block-size must be a power of two of at least 16 (MatMulNBits), got " + blockSize);
    }
  }

  static boolean isProjection(String weightName) {
    if (!weightName.startsWith("model.layers.") || !weightName.endsWith(".weight")) {
      return false;
    }
    String module = weightName.substring(0, weightName.length() - ".weight".length());
    return PROJECTIONS.contains(module.substring(module.lastIndexOf('.') + 1));
  }

  private void add(String name, String source, long[] sourceShape, Kind kind) {
    long n = FloatTensor.numel(sourceShape);
    DataType type = kind == Kind.F16 ? DataType.FLOAT16 : DataType.FLOAT;
    long bytes = n * (kind == Kind.F16 ? 2 : Float.BYTES);
    tensors.put(name, new Tensor(name, type, sourceShape.clone(), bytes, source, sourceShape.clone(), kind));
  }

  private void addQuantized(String name, String source, long[] shape) {
    long n = shape[0];
    long k = shape[1];
    String q = name + QUANTIZED_SUFFIX;
    String scale = name + SCALE_SUFFIX;
    if (dtype == ExportDtype.Q8) {
      tensors.put(q, new Tensor(q, DataType.INT8, new long[] {k, n}, n * k, source, shape, Kind.Q8));
      tensors.put(scale, new Tensor(scale, DataType.FLOAT, new long[] {n}, n * Float.BYTES, source, shape,
          Kind.Q8_SCALE));
    } else {
      long blocks = blocks(k);
      tensors.put(q, new Tensor(q, DataType.UINT8, new long[] {n, blocks, blockSize / 2}, n * blocks * blockSize / 2,
          source, shape, Kind.Q4));
      tensors.put(scale, new Tensor(scale, DataType.FLOAT, new long[] {n * blocks}, n * blocks * Float.BYTES, source,
          shape, Kind.Q4_SCALE));
    }
    quantized.add(name);
  }

  private long blocks(long k) {
    return (k + blockSize - 1) / blockSize;
  }

  public ExportDtype dtype() {
    return dtype;
  }

  public int blockSize() {
    return blockSize;
  }

  /**
   * q4: MatMulNBits' {@code accuracy_level}, the least precise compute ONNX Runtime may use: 0 (the default:
   * float32, the weights dequantized) up to 4 (activations quantized to int8 per block, int8 dot products).
   */
  public StoredWeights q4AccuracyLevel(int level) {
    checkAccuracyLevel(level);
    this.accuracyLevel = level;
    return this;
  }

  /** A MatMulNBits accuracy level: 0 to 4; refused naming the flag otherwise. */
  public static void checkAccuracyLevel(int level) {
    if (level < 0 || level > 4) {
      throw new RlsrException("--q4-accuracy-level must be 0 (float32 compute) to 4 (int8 compute), got " + level);
    }
  }

  public int q4AccuracyLevel() {
    return accuracyLevel;
  }

  public boolean quantizeLmHead() {
    return quantizeLmHead;
  }

  public ModelConfig config() {
    return config;
  }

  /** Every stored tensor, in file order. */
  public LinkedHashMap<String, Tensor> tensors() {
    return tensors;
  }

  /** Whether the graph multiplies by weight {@code name} ({@code P.weight}, or {@link #LM_HEAD}) through a quantized op. */
  boolean quantizes(String name) {
    return quantized.contains(name);
  }

  /** The weights a Cast makes from their float16 initializer {@code name + "_fp16"}. */
  Set<String> halved() {
    return Collections.unmodifiableSet(halved);
  }

  /** Bytes of all stored tensors. */
  public long totalBytes() {
    long sum = 0;
    for (Tensor t : tensors.values()) {
      sum += t.bytes();
    }
    return sum;
  }

  /** Whether every tensor is stored as float32: {@link #encode} then needs no float32 staging buffer. */
  public boolean allFloat32() {
    return tensors.values().stream().allMatch(t -> t.kind() == Kind.F32);
  }

  /** The largest source tensor's element count: what a float32 staging buffer must hold. */
  public long largestSourceElements() {
    long max = 0;
    for (Tensor t : tensors.values()) {
      max = Math.max(max, FloatTensor.numel(t.sourceShape()));
    }
    return max;
  }

  /** The largest stored tensor in bytes. */
  long largestStoredBytes() {
    long max = 0;
    for (Tensor t : tensors.values()) {
      max = Math.max(max, t.bytes());
    }
    return max;
  }

  /**
   * The bytes of {@code t} from {@code w}, little-endian, in {@code out} (position 0, limit its length); float32
   * tensors go straight into {@code out}, the others are read into {@code source} first.
   */
  public ByteBuffer encode(Tensor t, TensorSource w, FloatBuffer source, ByteBuffer out) {
    out.clear().order(ByteOrder.LITTLE_ENDIAN);
    if (t.kind() == Kind.F32) {
      FloatBuffer f = out.asFloatBuffer();
      read(w, t, f);
      return out.limit(Math.toIntExact(t.bytes()));
    }
    source.clear();
    read(w, t, source);
    source.flip();
    int n = (int) t.sourceShape()[0];
    int k = t.sourceShape().length > 1 ? (int) t.sourceShape()[1] : 1;
    if (t.kind() == Kind.F16) {
      for (int i = 0, len = source.limit(); i < len; i++) {
        out.putShort(Half.fromFloat(source.get(i)));
      }
      return out.position(0).limit(Math.toIntExact(t.bytes()));
    }
    // quantized: the matrix on the heap (a projection: at most tens of MB), encoded with plain array loops
    float[] wts = new float[n * k];
    source.get(wts);
    switch (t.kind()) {
      case Q8, Q8_SCALE -> {
        float[] scales = blockScales(wts, n, k, k, 127f); // one block per row: per output channel
        if (t.kind() == Kind.Q8_SCALE) {
          out.asFloatBuffer().put(scales);
          break;
        }
        byte[] q = new byte[n * k]; // transposed: [K, N], in tiles so that reads and writes both stay in cache
        final int tile = 64;
        for (int r0 = 0; r0 < n; r0 += tile) {
          int r1 = Math.min(n, r0 + tile);
          for (int c0 = 0; c0 < k; c0 += tile) {
            int c1 = Math.min(k, c0 + tile);
            for (int row = r0; row < r1; row++) {
              float inv = 1f / scales[row];
              for (int col = c0; col < c1; col++) {
                int v = Math.round(wts[row * k + col] * inv);
                q[col * n + row] = (byte) (v > 127 ? 127 : v < -127 ? -127 : v);
              }
            }
          }
        }
        out.put(q);
      }
      case Q4, Q4_SCALE -> {
        int blocks = (int) blocks(k);
        float[] scales = blockScales(wts, n, k, blockSize, 7f);
        if (t.kind() == Kind.Q4_SCALE) {
          out.asFloatBuffer().put(scales);
          break;
        }
        byte[] q = new byte[n * blocks * blockSize / 2];
        int at = 0;
        for (int row = 0; row < n; row++) {
          for (int b = 0; b < blocks; b++) {
            float scale = scales[row * blocks + b];
            int from = b * blockSize;
            for (int j = 0; j < blockSize; j += 2) {
              int lo = nibble(wts, row * k, from + j, k, scale);
              int hi = nibble(wts, row * k, from + j + 1, k, scale);
              q[at++] = (byte) (lo | hi << 4);
            }
          }
        }
        out.put(q);
      }
      default -> throw new IllegalStateException(t.kind().toString());
    }
    return out.position(0).limit(Math.toIntExact(t.bytes()));
  }

  /**
   * The symmetric scale of each block of {@code block} inputs of each of the {@code n} rows of {@code w} [n, k], row
   * by row: max|w| / {@code levels} (1 for an all-zero block); the last block of a row may be shorter.
   */
  private static float[] blockScales(float[] w, int n, int k, int block, float levels) {
    int blocks = (k + block - 1) / block;
    float[] scales = new float[n * blocks];
    for (int row = 0; row < n; row++) {
      for (int b = 0; b < blocks; b++) {
        float amax = 0;
        for (int j = row * k + b * block, end = row * k + Math.min(k, (b + 1) * block); j < end; j++) {
          amax = Math.max(amax, Math.abs(w[j]));
        }
        scales[row * blocks + b] = amax > 0 ? amax / levels : 1f;
      }
    }
    return scales;
  }

  /** The stored 4-bit value of input {@code j} of a row (0 past the row's end: the padding of its last block). */
  private static int nibble(float[] w, int rowStart, int j, int k, float scale) {
    if (j >= k) {
      return 8;
    }
    return Math.max(0, Math.min(15, Math.round(w[rowStart + j] / scale) + 8));
  }

  private static void read(TensorSource w, Tensor t, FloatBuffer dst) {
    int before = dst.position();
    w.readInto(t.source(), dst);
    long n = FloatTensor.numel(t.sourceShape());
    if (dst.position() - before != n) {
      throw new IllegalStateException("tensor " + t.source() + " gave " + (dst.position() - before)
          + " values, its shape has " + n);
    }
  }

  /** What the export stored, for quantize_config.json and the model's metadata. */
  public LinkedHashMap<String, Object> describe() {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    m.put("dtype", dtype.toString());
    m.put("file", dtype.fileName());
    List<String> floats = new ArrayList<>();
    switch (dtype) {
      case FP32 -> m.put("weights", "float32");
      case FP16 -> {
        m.put("weights", "float16 matrices (embeddings, projections, LM head), cast to float32 in the graph");
        floats.add("*norm.weight");
        floats.add("*.bias");
      }
      case Q8 -> {
        m.put("weights", "int8, symmetric, one scale per output channel (max|w| / 127), zero point 0");
        m.put("activations", "uint8, dynamic: scale and zero point per tensor at run time");
        m.put("op", "com.microsoft DynamicQuantizeMatMul");
      }
      case Q4 -> {
        m.put("weights", "4-bit, symmetric, one scale per block of inputs (max|w| / 7), zero point 8");
        m.put("block_size", blockSize);
        m.put("op", "com.microsoft MatMulNBits (bits 4)");
        m.put("accuracy_level", accuracyLevel);
      }
      default -> throw new IllegalStateException();
    }
    if (dtype.quantized()) {
      m.put("symmetric", true);
      m.put("quantized_modules", PROJECTIONS);
      m.put("quantize_lm_head", quantizeLmHead);
      floats.add("model.embed_tokens.weight");
      floats.add("*norm.weight");
      floats.add("*.bias");
      if (!quantizeLmHead && !config.tieWordEmbeddings()) {
        floats.add(LM_HEAD);
      }
    }
    if (!floats.isEmpty()) {
      m.put("float32_tensors", floats);
    }
    return m;
  }

  /** float32 to IEEE 754 binary16, rounding to nearest even (Java 17 has no Float.floatToFloat16). */
  static final class Half {
    private Half() {}

    static short fromFloat(float f) {
      int bits = Float.floatToRawIntBits(f);
      int sign = (bits >>> 16) & 0x8000;
      int exp = (bits >>> 23) & 0xff;
      int mant = bits & 0x7fffff;
      if (exp == 0xff) { // infinity, NaN (kept quiet)
        return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | mant >>> 13 : 0));
      }
      int e = exp - 127 + 15;
      if (e >= 0x1f) {
        return (short) (sign | 0x7c00); // too large: infinity
      }
      if (e <= 0) { // a subnormal half, or zero
        if (e < -10) {
          return (short) sign;
        }
        int m = mant | 0x800000;
        int shift = 14 - e;
        int half = m >>> shift;
        int rem = m & ((1 << shift) - 1);
        int mid = 1 << (shift - 1);
        if (rem > mid || rem == mid && (half & 1) != 0) {
          half++;
        }
        return (short) (sign | half);
      }
      int half = e << 10 | mant >>> 13;
      int rem = mant & 0x1fff;
      if (rem > 0x1000 || rem == 0x1000 && (half & 1) != 0) {
        half++; // a carry into the exponent is right (up to infinity)
      }
      return (short) (sign | half);
    }
  }
}
