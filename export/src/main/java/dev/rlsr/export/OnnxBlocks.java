// The blocks of the Llama-family decoder as ONNX nodes (rotary tables, the attention mask, grouped-query attention,
// head split, rotary, RMSNorm, linear with an optional LoRA update), used by OnnxPolicyExporter.build in order.
package dev.rlsr.export;

import static dev.rlsr.export.OnnxGraph.attr;
import static dev.rlsr.export.OnnxGraph.attrFloat;
import static dev.rlsr.export.OnnxGraph.attrInts;
import static dev.rlsr.export.OnnxGraph.in;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.rlsr.policy.model.Attention;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.Rope;
import java.util.Set;

/**
 * Each block adds its nodes under the name prefix {@code s} and returns the name of its output. Like the TensorFlow
 * graph and the test reference, the blocks take the rotary frequencies from {@link Rope#inverseFrequencies} and the
 * masked score from {@link Attention#MASKED_SCORE}.
 */
final class OnnxBlocks {
  private OnnxBlocks() {}

  /**
   * cos/sin of position * inv_freq, HF half-rotation layout cat(freqs, freqs). Returns {cos, sin} [B, 1, S, hd].
   * Reads the constant {@code const/axis_last} ({-1}) that the caller declares.
   */
  static String[] rotaryTables(OnnxGraph g, ModelConfig c, String pos) {
    int hd = c.headDim();
    g.constFloats("rotary/inv_freq", new long[] {hd / 2}, Rope.inverseFrequencies(c));                   // [hd/2]
    String posF = g.node("rotary/positions", "Cast", in(pos), attr("to", (long) DataType.FLOAT.getNumber())); // [B, S]
    String posCol = g.node("rotary/positions_col", "Unsqueeze", in(posF, "const/axis_last"));              // [B, S, 1]
    String freqs = g.node("rotary/freqs", "Mul", in(posCol, "rotary/inv_freq"));                          // [B, S, hd/2]
    String emb = g.node("rotary/angles", "Concat", in(freqs, freqs), attr("axis", -1L));                   // [B, S, hd]
    String cos = g.node("rotary/cos_bsd", "Cos", in(emb));
    String sin = g.node("rotary/sin_bsd", "Sin", in(emb));
    g.shapeConst("rotary/head_axis", 1);
    return new String[] {
        g.node("rotary/cos", "Unsqueeze", in(cos, "rotary/head_axis")),                                    // [B, 1, S, hd]
        g.node("rotary/sin", "Unsqueeze", in(sin, "rotary/head_axis"))};
  }

  /**
   * 0 where the query at absolute index P+t may see key j (j <= P+t and attention_mask[b, j] == 1),
   * {@link Attention#MASKED_SCORE} elsewhere; P = T - S is the past length. Returns [B, 1, 1, S, T] (kv-head and
   * group axes broadcast).
   */
  static String attentionBias(OnnxGraph g, String ids, String mask) {
    g.constLongs("mask/zero", new long[] {}, 0);
    g.constLongs("mask/one", new long[] {}, 1);
    String seqLen = g.node("mask/S", "Gather", in(g.node("mask/ids_shape", "Shape", in(ids)), "mask/one"), attr("axis", 0L)); // S
    String total = g.node("mask/T", "Gather", in(g.node("mask/mask_shape", "Shape", in(mask)), "mask/one"), attr("axis", 0L)); // T
    String past = g.node("mask/P", "Sub", in(total, seqLen));                                              // P = T - S
    String keyIdx = g.node("mask/key_index", "Range", in("mask/zero", total, "mask/one"));                 // [T] 0..T-1
    String queryIdx = g.node("mask/query_index", "Range", in(past, total, "mask/one"));                    // [S] P..T-1
    g.shapeConst("mask/axis_0", 0);
    g.shapeConst("mask/axis_1", 1);
    String keyRow = g.node("mask/key_row", "Unsqueeze", in(keyIdx, "mask/axis_0"));                       // [1, T]
    String queryCol = g.node("mask/query_col", "Unsqueeze", in(queryIdx, "mask/axis_1"));                  // [S, 1]
    String causal = g.node("mask/causal", "LessOrEqual", in(keyRow, queryCol));                            // [S, T]
    String real = g.node("mask/real_token", "Cast", in(mask), attr("to", (long) DataType.BOOL.getNumber())); // [B, T]
    g.shapeConst("mask/axes_1_2_3", 1, 2, 3);
    String real5 = g.node("mask/real_token_5d", "Unsqueeze", in(real, "mask/axes_1_2_3"));                 // [B, 1, 1, 1, T]
    String allowed = g.node("mask/allowed", "And", in(causal, real5));                                     // [B, 1, 1, S, T]
    g.constFloats("mask/open", new long[] {}, 0f);
    g.constFloats("mask/masked", new long[] {}, Attention.MASKED_SCORE);
    return g.node("mask/bias", "Where", in(allowed, "mask/open", "mask/masked"));                          // [B, 1, 1, S, T]
  }

  /** Grouped-query attention without copying kv heads: queries are grouped per kv head. Returns [N, nh*hd]. */
  static String attention(OnnxGraph g, ModelConfig c, String s, String q, String keys, String values, String bias) {
    int nh = c.numHeads();
    int nkv = c.numKvHeads();
    int hd = c.headDim();
    // query head h = kv * group + j  ->  [B, nkv, group, S, hd]
    String qg = g.node(s + "/q_grouped", "Reshape", in(q, g.shapeConst(s + "/q_grouped_shape", 0, nkv, c.groupSize(), -1, hd)));
    String axis2 = g.shapeConst(s + "/group_axis", 2);
    String kg = g.node(s + "/k_grouped", "Unsqueeze", in(keys, axis2));                                    // [B, nkv, 1, T, hd]
    String vg = g.node(s + "/v_grouped", "Unsqueeze", in(values, axis2));                                  // [B, nkv, 1, T, hd]
    String kt = g.node(s + "/k_transposed", "Transpose", in(kg), attrInts("perm", 0, 1, 2, 4, 3));          // [B, nkv, 1, hd, T]
    String scores = g.node(s + "/scores", "MatMul", in(qg, kt));                                           // [B, nkv, group, S, T]
    String scaled = g.node(s + "/scores_scaled", "Mul", in(scores, "const/attention_scale"));
    String masked = g.node(s + "/scores_masked", "Add", in(scaled, bias));
    String probs = g.node(s + "/probs", "Softmax", in(masked), attr("axis", -1L));                        // [B, nkv, group, S, T]
    String ctx = g.node(s + "/context", "MatMul", in(probs, vg));                                          // [B, nkv, group, S, hd]
    String heads = g.node(s + "/context_heads", "Reshape", in(ctx, g.shapeConst(s + "/heads_shape", 0, nh, -1, hd))); // [B, nh, S, hd]
    String seqFirst = g.node(s + "/context_seq_first", "Transpose", in(heads), attrInts("perm", 0, 2, 1, 3)); // [B, S, nh, hd]
    return g.node(s + "/context_merged", "Reshape", in(seqFirst, g.shapeConst(s + "/merged_shape", -1, (long) nh * hd))); // [N, nh*hd]
  }

  /** [N, heads*hd] -> [B, heads, S, hd], {@code shape} = {-1, S, heads, hd}. */
  static String splitHeads(OnnxGraph g, String s, String x, String shape) {
    String r = g.node(s + "_heads", "Reshape", in(x, shape));                                                // [B, S, heads, hd]
    return g.node(s + "_heads_first", "Transpose", in(r), attrInts("perm", 0, 2, 1, 3));                    // [B, heads, S, hd]
  }

  /** x*cos + rotate_half(x)*sin, rotate_half(x) = cat(-x[hd/2:], x[:hd/2]); x [B, H, S, hd]. */
  static String rotary(OnnxGraph g, String s, String x, String[] cosSin) {
    String[] halves = g.node(s + "/halves", "Split", in(x), 2, attr("axis", -1L));                         // 2 x [B, H, S, hd/2]
    String neg = g.node(s + "/neg_second_half", "Neg", in(halves[1]));
    String rot = g.node(s + "/rotate_half", "Concat", in(neg, halves[0]), attr("axis", -1L));              // [B, H, S, hd]
    String a = g.node(s + "/x_cos", "Mul", in(x, cosSin[0]));
    String b = g.node(s + "/rot_sin", "Mul", in(rot, cosSin[1]));
    return g.node(s + "/out", "Add", in(a, b));
  }

  /** x * 1/sqrt(mean(x^2, last axis) + eps) * weight. */
  static String rmsNorm(OnnxGraph g, String s, String x, String weight) {
    String sq = g.node(s + "/square", "Mul", in(x, x));
    String mean = g.node(s + "/mean_square", "ReduceMean", in(sq), attrInts("axes", -1), attr("keepdims", 1L)); // [.., 1]
    String var = g.node(s + "/plus_eps", "Add", in(mean, "const/rms_norm_eps"));
    String inv = g.node(s + "/inv_rms", "Reciprocal", in(g.node(s + "/rms", "Sqrt", in(var))));
    String normed = g.node(s + "/normalized", "Mul", in(x, inv));
    return g.node(s + "/scaled", "Mul", in(normed, weight));
  }

  /**
   * y = x W^T (+ b) as one Gemm with transB=1 over the HF [out, in] weight {@code prefix.weight} and bias
   * {@code prefix.bias}: no transposed copy of the weight exists, in the file or in the session. x [N, in].
   */
  static String linear(OnnxGraph g, String s, String x, String prefix, boolean hasBias) {
    return linear(g, s, x, prefix, hasBias, Adapter.NONE);
  }

  /**
   * {@link #linear(OnnxGraph, String, String, String, boolean)}, and for a layer the adapter adapts
   * {@code W x + scale · B (A x)}: {@code s/lora_A} = Gemm(x, A, transB=1) [N, r], then one Gemm(xA, B, base,
   * alpha=scale, beta=1, transB=1) adds the update to the base output. A [r, in] and B [out, r] are read by their
   * rlsr names ({@link LoraConfig#aName}, {@link LoraConfig#bName}), declared by the caller.
   */
  static String linear(OnnxGraph g, String s, String x, String prefix, boolean hasBias, Adapter lora) {
    String[] inputs = hasBias ? in(x, prefix + ".weight", prefix + ".bias") : in(x, prefix + ".weight");
    if (!lora.adapts(prefix)) {
      return g.node(s, "Gemm", inputs, attr("transB", 1L));                                                 // [N, out]
    }
    String base = g.node(s + "/base", "Gemm", inputs, attr("transB", 1L));                                  // [N, out]
    String xa = g.node(s + "/lora_A", "Gemm", in(x, LoraConfig.aName(prefix)), attr("transB", 1L));       // [N, r]
    return g.node(s, "Gemm", in(xa, LoraConfig.bName(prefix), base), attr("transB", 1L),
        attrFloat("alpha", lora.scale()), attrFloat("beta", 1f));                                           // [N, out]
  }

  /**
   * {@link #linear(OnnxGraph, String, String, String, boolean, Adapter)}, or when {@code stored} (null: float32)
   * quantizes {@code prefix.weight}, its {@link #quantizedMatMul}.
   */
  static String linear(OnnxGraph g, String s, String x, String prefix, boolean hasBias, Adapter lora,
      StoredWeights stored) {
    String weight = prefix + ".weight";
    if (stored == null || !stored.quantizes(weight)) {
      return linear(g, s, x, prefix, hasBias, lora);
    }
    if (lora.adapts(prefix)) {
      throw new IllegalStateException("a quantized export takes no LoRA adapter inputs");
    }
    return quantizedMatMul(g, s, x, weight, hasBias ? prefix + ".bias" : null, stored);
  }

  /**
   * y = x W^T (+ b) for a weight W [out, in] stored quantized ({@link StoredWeights}): q8 as one
   * DynamicQuantizeMatMul(x, W_quantized [in, out] int8, W_scale [out], zero points 0, b), x quantized to uint8 per
   * tensor as it runs; q4 as MatMulNBits(x, W_quantized, W_scale) with K = in, N = out, 4 bits, the stored accuracy level,
   * then + b. x [N, in] -> [N, out].
   */
  static String quantizedMatMul(OnnxGraph g, String s, String x, String weight, String bias, StoredWeights stored) {
    String q = weight + StoredWeights.QUANTIZED_SUFFIX;
    String scale = weight + StoredWeights.SCALE_SUFFIX;
    long[] shape = stored.tensors().get(q).sourceShape();                                                  // [out, in]
    if (stored.dtype() == ExportDtype.Q8) {
      String zero = g.constInt8Zeros(s + "/zero_point", shape[0]);
      return g.msNode(s, "DynamicQuantizeMatMul", bias == null ? in(x, q, scale, zero) : in(x, q, scale, zero, bias));
    }
    String y = g.msNode(bias == null ? s : s + "/matmul", "MatMulNBits", in(x, q, scale), attr("K", shape[1]),
        attr("N", shape[0]), attr("bits", 4L), attr("block_size", stored.blockSize()), attr("accuracy_level", stored.q4AccuracyLevel()));
    return bias == null ? y : g.node(s, "Add", in(y, bias));                                            // [N, out]
  }

  /** The layers (weight prefixes) a LoRA adapter adapts and its scale alpha / r; {@link #NONE}: no adapter. */
  record Adapter(Set<String> prefixes, float scale) {
    static final Adapter NONE = new Adapter(Set.of(), 1f);

    static Adapter of(LoraConfig lora, ModelConfig c) {
      return lora == null ? NONE : new Adapter(Set.copyOf(lora.adaptedLayers(c).keySet()), (float) lora.scale());
    }

    boolean adapts(String prefix) {
      return prefixes.contains(prefix);
    }
  }
}
