// The Llama-family forward pass as TensorFlow ops, in forward-pass order: token ids [B, T] -> final hidden states
// [B*T, D] (after the last RMSNorm); the head weight that turns them into logits is headWeightName().
// Numerically the Hugging Face definition: RMSNorm, half-rotation rotary embeddings, GQA causal attention
// with a padding mask (masked scores get Attention.MASKED_SCORE, as in every rlsr backend), SwiGLU MLP.
// How a family differs from plain Llama comes from config.architecture() (q/k/v biases for qwen2, q/k norm for qwen3).
package dev.rlsr.policy.graph;

import dev.rlsr.policy.model.Attention;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.Rope;
import dev.rlsr.policy.model.family.Architecture;
import java.util.List;
import java.util.function.Function;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

final class LlamaGraph {
  private final Ops tf;
  private final ModelConfig c;
  private final Architecture arch;
  private final Function<String, Operand<TFloat32>> weight;
  private final Adapter adapter;

  /** What a LoRA adapter adds to a linear layer's output. */
  interface Adapter {
    /**
     * @param x      the layer's input [N, in]
     * @param prefix the layer's weight prefix ({@code model.layers.0.self_attn.q_proj})
     * @return the adapter's term [N, out] added to x W^T (+ b), or null when the layer is not adapted
     */
    Operand<TFloat32> delta(Operand<TFloat32> x, String prefix);
  }

  /** @param weight reads a weight by its Hugging Face name */
  LlamaGraph(Ops tf, ModelConfig c, Function<String, Operand<TFloat32>> weight) {
    this(tf, c, weight, (x, prefix) -> null);
  }

  /**
   * @param weight  reads a weight by its Hugging Face name
   * @param adapter the term a LoRA adapter adds to each linear layer (null terms leave a layer as it is)
   */
  LlamaGraph(Ops tf, ModelConfig c, Function<String, Operand<TFloat32>> weight, Adapter adapter) {
    this.tf = tf;
    this.c = c;
    this.arch = c.architecture();
    this.weight = weight;
    this.adapter = adapter;
    arch.requireImplemented("TensorFlow graph");
  }

  /**
   * @param ids           [B, T] token ids
   * @param positions     [B, T] position ids (rotary angles)
   * @param attentionMask [B, T] 1 for real tokens, 0 for padding (keys with 0 are never attended)
   * @return the final hidden states [B*T, D] (row b*T + t), after model.norm; logits are h W^T with W the head weight
   */
  Operand<TFloat32> hidden(Operand<TInt32> ids, Operand<TInt32> positions, Operand<TInt32> attentionMask) {
    int d = c.hiddenSize();
    Operand<TInt32> bt = tf.shape(ids); // [2] = (B, T)
    Operand<TInt32> b = tf.slice(bt, tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    Operand<TInt32> t = tf.slice(bt, tf.constant(new int[] {1}), tf.constant(new int[] {1}));

    // Token embeddings: [B, T] -> [B*T, D]
    Operand<TFloat32> h = tf.gather(weight.apply("model.embed_tokens.weight"), tf.reshape(ids, tf.constant(new int[] {-1})),
        tf.constant(0));

    // Rotary tables from positions: cos, sin [B, 1, T, hd] (HF layout: the angle table repeated twice)
    float[] invFreq = Rope.inverseFrequencies(c); // [hd/2]
    Operand<TFloat32> angles = tf.math.mul(tf.expandDims(tf.dtypes.cast(positions, TFloat32.class), tf.constant(-1)),
        tf.constant(invFreq)); // [B, T, hd/2]
    Operand<TFloat32> emb = tf.expandDims(tf.concat(List.of(angles, angles), tf.constant(-1)), tf.constant(1));
    Operand<TFloat32> cos = tf.math.cos(emb);
    Operand<TFloat32> sin = tf.math.sin(emb);

    // Attention bias [B, 1, T, T]: 0 where key j <= query i and key j is not padding, else MASKED_SCORE
    Operand<TInt32> range = tf.range(tf.constant(0), tf.reshape(t, tf.constant(new int[0])), tf.constant(1));
    Operand<TBool> causal = tf.math.lessEqual(tf.expandDims(range, tf.constant(0)), tf.expandDims(range, tf.constant(1)));
    Operand<TBool> keyReal = tf.math.equal(tf.expandDims(tf.expandDims(attentionMask, tf.constant(1)), tf.constant(1)),
        tf.constant(1)); // [B, 1, 1, T]
    Operand<TFloat32> bias = tf.math.mul(
        tf.math.sub(tf.dtypes.cast(tf.math.logicalAnd(causal, keyReal), TFloat32.class), tf.constant(1f)),
        tf.constant(-Attention.MASKED_SCORE)); // [B, 1, T, T]

    for (int layer = 0; layer < c.numLayers(); layer++) {
      String p = "model.layers." + layer + ".";
      // Self-attention block with pre-norm and residual
      Operand<TFloat32> x = rmsNorm(h, p + "input_layernorm.weight"); // [B*T, D]
      boolean qkvBias = arch.qkvBias();
      Operand<TFloat32> q = heads(linear(x, p + "self_attn.q_proj", qkvBias), b, t, c.numHeads()); // [B, H, T, hd]
      Operand<TFloat32> k = heads(linear(x, p + "self_attn.k_proj", qkvBias), b, t, c.numKvHeads()); // [B, KV, T, hd]
      Operand<TFloat32> v = heads(linear(x, p + "self_attn.v_proj", qkvBias), b, t, c.numKvHeads()); // [B, KV, T, hd]
      if (arch.qkNorm()) { // Qwen3: RMSNorm of every query and key head over head_dim, before rotary
        q = rmsNorm(q, p + "self_attn.q_norm.weight");
        k = rmsNorm(k, p + "self_attn.k_norm.weight");
      }
      q = rotary(q, cos, sin);
      k = rotary(k, cos, sin);
      k = repeatKv(k, b, t); // [B, H, T, hd]
      v = repeatKv(v, b, t);
      Operand<TFloat32> scores = tf.math.mul(
          tf.train.batchMatMul(q, k, TFloat32.class, BatchMatMul.adjY(true)),
          tf.constant((float) (1.0 / Math.sqrt(c.headDim())))); // [B, H, T, T]
      Operand<TFloat32> probs = tf.nn.softmax(tf.math.add(scores, bias));
      Operand<TFloat32> ctx = tf.train.batchMatMul(probs, v, TFloat32.class); // [B, H, T, hd]
      ctx = tf.reshape(tf.linalg.transpose(ctx, tf.constant(new int[] {0, 2, 1, 3})),
          tf.constant(new int[] {-1, c.numHeads() * c.headDim()})); // [B*T, H*hd]
      h = tf.math.add(h, linear(ctx, p + "self_attn.o_proj", false));

      // SwiGLU MLP block with pre-norm and residual: down(silu(gate(x)) * up(x))
      x = rmsNorm(h, p + "post_attention_layernorm.weight");
      Operand<TFloat32> gate = linear(x, p + "mlp.gate_proj", false); // [B*T, I]
      Operand<TFloat32> up = linear(x, p + "mlp.up_proj", false);
      Operand<TFloat32> act = tf.math.mul(tf.math.mul(gate, tf.math.sigmoid(gate)), up);
      h = tf.math.add(h, linear(act, p + "mlp.down_proj", false));
    }
    return rmsNorm(h, "model.norm.weight");
  }

  /** The [V, D] weight of the output head: the embedding when the config ties them, else lm_head.weight. */
  static String headWeightName(ModelConfig c) {
    return c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
  }

  /** x * rsqrt(mean(x^2) + eps) * w over the last axis. */
  private Operand<TFloat32> rmsNorm(Operand<TFloat32> x, String name) {
    Operand<TFloat32> ms = tf.math.mean(tf.math.mul(x, x), tf.constant(-1), org.tensorflow.op.math.Mean.keepDims(true));
    Operand<TFloat32> normed = tf.math.mul(x, tf.math.rsqrt(tf.math.add(ms, tf.constant((float) c.rmsNormEps()))));
    return tf.math.mul(normed, weight.apply(name));
  }

  /**
   * x W^T (+ b) (+ the adapter's term): x [N, in], W [out, in] as stored by Hugging Face; b = {@code prefix.bias}
   * when {@code hasBias}.
   */
  private Operand<TFloat32> linear(Operand<TFloat32> x, String prefix, boolean hasBias) {
    Operand<TFloat32> y = tf.linalg.matMul(x, weight.apply(prefix + ".weight"), MatMul.transposeB(true));
    if (hasBias) {
      y = tf.math.add(y, weight.apply(prefix + ".bias"));
    }
    Operand<TFloat32> d = adapter.delta(x, prefix);
    return d == null ? y : tf.math.add(y, d);
  }

  /** [B*T, n*hd] -> [B, n, T, hd] */
  private Operand<TFloat32> heads(Operand<TFloat32> x, Operand<TInt32> b, Operand<TInt32> t, int n) {
    Operand<TInt32> shape = tf.concat(List.of(b, t, tf.constant(new int[] {n, c.headDim()})), tf.constant(0));
    return tf.linalg.transpose(tf.reshape(x, shape), tf.constant(new int[] {0, 2, 1, 3}));
  }

  /** x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x2, x1) */
  private Operand<TFloat32> rotary(Operand<TFloat32> x, Operand<TFloat32> cos, Operand<TFloat32> sin) {
    var halves = tf.split(tf.constant(3), x, 2L);
    Operand<TFloat32> rotated = tf.concat(List.of(tf.math.neg(halves.output().get(1)), halves.output().get(0)),
        tf.constant(3));
    return tf.math.add(tf.math.mul(x, cos), tf.math.mul(rotated, sin));
  }

  /** GQA: [B, KV, T, hd] -> [B, H, T, hd], query head h reads kv head h / groupSize. */
  private Operand<TFloat32> repeatKv(Operand<TFloat32> x, Operand<TInt32> b, Operand<TInt32> t) {
    int g = c.groupSize();
    if (g == 1) {
      return x;
    }
    Operand<TFloat32> tiled = tf.tile(tf.expandDims(x, tf.constant(2)), tf.constant(new int[] {1, 1, g, 1, 1}));
    Operand<TInt32> shape = tf.concat(List.of(b, tf.constant(new int[] {c.numHeads()}), t,
        tf.constant(new int[] {c.headDim()})), tf.constant(0));
    return tf.reshape(tiled, shape);
  }
}
