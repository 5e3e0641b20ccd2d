// Plain-Java, loop-by-loop reference of the Hugging Face Llama/Qwen2/Qwen3/Mistral forward pass (no cache), computed in double.
// Every backend of rlsr (TensorFlow graph, ONNX graph, ORT sampler) is checked against it in tests. Like them it
// reads the family description (config.architecture()), Rope.inverseFrequencies and Attention.MASKED_SCORE.
package dev.rlsr.policy.testing;

import dev.rlsr.policy.model.Attention;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.Rope;

/**
 * Reference logits for {@code LlamaForCausalLM} / {@code Qwen2ForCausalLM} / {@code Qwen3ForCausalLM} / {@code MistralForCausalLM} with the rlsr masking rule: key j is
 * visible to query i iff {@code j <= i} and {@code attentionMask[j] == 1}; a hidden key gets the additive
 * {@link Attention#MASKED_SCORE} (-1e9, not -inf), so a fully masked (pad) query row stays finite. Deliberately
 * slow and obvious.
 */
public final class NaiveLlama {
  private NaiveLlama() {}

  /**
   * @param inputIds      [batch][seq] token ids
   * @param attentionMask [batch][seq] 1 = real token, 0 = padding
   * @param positionIds   [batch][seq] rotary positions
   * @return logits [batch][seq][vocab]
   */
  public static float[][][] logits(ModelWeights w, int[][] inputIds, int[][] attentionMask, int[][] positionIds) {
    float[][][] out = new float[inputIds.length][][];
    for (int b = 0; b < inputIds.length; b++) {
      out[b] = sequence(w, inputIds[b], attentionMask[b], positionIds[b]);
    }
    return out;
  }

  /** One row of the batch: rows never interact, so the batch is a loop. Returns [seq][vocab]. */
  private static float[][] sequence(ModelWeights w, int[] ids, int[] mask, int[] pos) {
    ModelConfig c = w.config();
    int seq = ids.length;
    int d = c.hiddenSize();
    int hd = c.headDim();
    int nh = c.numHeads();
    int nkv = c.numKvHeads();
    int group = c.groupSize();
    c.architecture().requireImplemented("NaiveLlama");
    boolean qkvBias = c.architecture().qkvBias();

    // h = embed_tokens[ids]                                             [seq, d]
    FloatTensor emb = w.get("model.embed_tokens.weight");
    double[][] h = new double[seq][d];
    for (int t = 0; t < seq; t++) {
      for (int k = 0; k < d; k++) {
        h[t][k] = emb.data()[ids[t] * d + k];
      }
    }

    // Rotary tables from position ids: cos/sin [seq, hd] = cat(freqs, freqs), freqs = pos * inv_freq
    float[] invFreq = Rope.inverseFrequencies(c);                      // [hd/2], float32 like HF's inv_freq buffer
    double[][] cos = new double[seq][hd];
    double[][] sin = new double[seq][hd];
    for (int t = 0; t < seq; t++) {
      for (int i = 0; i < hd / 2; i++) {
        double angle = pos[t] * (double) invFreq[i];
        cos[t][i] = cos[t][i + hd / 2] = Math.cos(angle);
        sin[t][i] = sin[t][i + hd / 2] = Math.sin(angle);
      }
    }

    for (int layer = 0; layer < c.numLayers(); layer++) {
      String p = "model.layers." + layer + ".";
      // ---- self-attention block ----
      double[][] x = rmsNorm(h, w.get(p + "input_layernorm.weight"), c.rmsNormEps());   // [seq, d]
      double[][] q = linear(x, w.get(p + "self_attn.q_proj.weight"), bias(w, qkvBias, p + "self_attn.q_proj.bias"));  // [seq, nh*hd]
      double[][] k = linear(x, w.get(p + "self_attn.k_proj.weight"), bias(w, qkvBias, p + "self_attn.k_proj.bias"));  // [seq, nkv*hd]
      double[][] v = linear(x, w.get(p + "self_attn.v_proj.weight"), bias(w, qkvBias, p + "self_attn.v_proj.bias"));  // [seq, nkv*hd]
      if (c.architecture().qkNorm()) {                                  // Qwen3: RMSNorm per head over hd, before rotary
        headNorm(q, nh, hd, w.get(p + "self_attn.q_norm.weight"), c.rmsNormEps());
        headNorm(k, nkv, hd, w.get(p + "self_attn.k_norm.weight"), c.rmsNormEps());
      }
      rope(q, nh, hd, cos, sin);
      rope(k, nkv, hd, cos, sin);

      double[][] attn = new double[seq][nh * hd];                       // [seq, nh*hd], heads side by side
      double scale = 1.0 / Math.sqrt(hd);
      for (int head = 0; head < nh; head++) {
        int kvHead = head / group;                                       // GQA: query head -> shared kv head
        for (int i = 0; i < seq; i++) {
          double[] scores = new double[seq];                             // [seq] over keys j
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < seq; j++) {
            double s = 0;
            for (int e = 0; e < hd; e++) {
              s += q[i][head * hd + e] * k[j][kvHead * hd + e];
            }
            s *= scale;
            if (j > i || mask[j] == 0) {
              s += Attention.MASKED_SCORE;
            }
            scores[j] = s;
            max = Math.max(max, s);
          }
          double sum = 0;
          for (int j = 0; j < seq; j++) {
            scores[j] = Math.exp(scores[j] - max);
            sum += scores[j];
          }
          for (int j = 0; j < seq; j++) {
            double pj = scores[j] / sum;
            for (int e = 0; e < hd; e++) {
              attn[i][head * hd + e] += pj * v[j][kvHead * hd + e];
            }
          }
        }
      }
      double[][] o = linear(attn, w.get(p + "self_attn.o_proj.weight"), null);   // [seq, d]
      addInPlace(h, o);

      // ---- SwiGLU MLP block ----
      double[][] x2 = rmsNorm(h, w.get(p + "post_attention_layernorm.weight"), c.rmsNormEps());  // [seq, d]
      double[][] gate = linear(x2, w.get(p + "mlp.gate_proj.weight"), null);    // [seq, inter]
      double[][] up = linear(x2, w.get(p + "mlp.up_proj.weight"), null);        // [seq, inter]
      for (int t = 0; t < seq; t++) {
        for (int e = 0; e < gate[t].length; e++) {
          double g = gate[t][e];
          gate[t][e] = g / (1 + Math.exp(-g)) * up[t][e];                       // silu(gate) * up
        }
      }
      double[][] down = linear(gate, w.get(p + "mlp.down_proj.weight"), null);  // [seq, d]
      addInPlace(h, down);
    }

    double[][] hn = rmsNorm(h, w.get("model.norm.weight"), c.rmsNormEps());     // [seq, d]
    double[][] logits = linear(hn, w.lmHead(), null);                           // [seq, vocab]
    float[][] out = new float[seq][];
    for (int t = 0; t < seq; t++) {
      out[t] = new float[logits[t].length];
      for (int e = 0; e < logits[t].length; e++) {
        out[t][e] = (float) logits[t][e];
      }
    }
    return out;
  }

  private static FloatTensor bias(ModelWeights w, boolean hasBias, String name) {
    return hasBias ? w.get(name) : null;
  }

  /** x * 1/sqrt(mean(x^2) + eps) * weight, row by row. */
  static double[][] rmsNorm(double[][] x, FloatTensor weight, double eps) {
    double[][] y = new double[x.length][];
    for (int t = 0; t < x.length; t++) {
      double ss = 0;
      for (double v : x[t]) {
        ss += v * v;
      }
      double inv = 1.0 / Math.sqrt(ss / x[t].length + eps);
      y[t] = new double[x[t].length];
      for (int k = 0; k < x[t].length; k++) {
        y[t][k] = x[t][k] * inv * weight.data()[k];
      }
    }
    return y;
  }

  /** In place, per head: x[head] * 1/sqrt(mean(x[head]^2) + eps) * weight, weight [hd]. */
  static void headNorm(double[][] x, int heads, int hd, FloatTensor weight, double eps) {
    for (int t = 0; t < x.length; t++) {
      for (int head = 0; head < heads; head++) {
        double ss = 0;
        for (int e = 0; e < hd; e++) {
          ss += x[t][head * hd + e] * x[t][head * hd + e];
        }
        double inv = 1.0 / Math.sqrt(ss / hd + eps);
        for (int e = 0; e < hd; e++) {
          x[t][head * hd + e] = x[t][head * hd + e] * inv * weight.data()[e];
        }
      }
    }
  }

  /** y = x W^T (+ b) with the HF weight layout W [out, in]. */
  static double[][] linear(double[][] x, FloatTensor weight, FloatTensor bias) {
    int out = (int) weight.shape()[0];
    int in = (int) weight.shape()[1];
    float[] wd = weight.data();
    double[][] y = new double[x.length][out];
    for (int t = 0; t < x.length; t++) {
      for (int o = 0; o < out; o++) {
        double s = bias == null ? 0 : bias.data()[o];
        for (int k = 0; k < in; k++) {
          s += x[t][k] * wd[o * in + k];
        }
        y[t][o] = s;
      }
    }
    return y;
  }

  /** In place, per head: x' = x*cos + rotate_half(x)*sin, rotate_half(x) = cat(-x[hd/2:], x[:hd/2]). */
  static void rope(double[][] x, int heads, int hd, double[][] cos, double[][] sin) {
    int half = hd / 2;
    for (int t = 0; t < x.length; t++) {
      for (int head = 0; head < heads; head++) {
        int base = head * hd;
        double[] r = new double[hd];
        for (int e = 0; e < hd; e++) {
          double rotated = e < half ? -x[t][base + e + half] : x[t][base + e - half];
          r[e] = x[t][base + e] * cos[t][e] + rotated * sin[t][e];
        }
        System.arraycopy(r, 0, x[t], base, hd);
      }
    }
  }

  private static void addInPlace(double[][] h, double[][] delta) {
    for (int t = 0; t < h.length; t++) {
      for (int k = 0; k < h[t].length; k++) {
        h[t][k] += delta[t][k];
      }
    }
  }

  /** Left-padding position ids as generation uses them: cumsum(mask) - 1, clamped at 0. */
  public static int[][] positionsFromMask(int[][] mask) {
    int[][] pos = new int[mask.length][];
    for (int b = 0; b < mask.length; b++) {
      pos[b] = new int[mask[b].length];
      int seen = 0;
      for (int t = 0; t < mask[b].length; t++) {
        seen += mask[b][t];
        pos[b][t] = Math.max(seen - 1, 0);
      }
    }
    return pos;
  }
}
