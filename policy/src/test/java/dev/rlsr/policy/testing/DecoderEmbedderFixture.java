// Test helper: a random-weight Qwen3-shaped sentence-transformers directory (a decoder embedder like Qwen3-Embedding)
// and the plain-Java last-token embedding it should give, written out step by step as the reference.
package dev.rlsr.policy.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * {@link #write} lays out what sentence-transformers saves for Qwen3-Embedding (config.json, model.safetensors,
 * modules.json, 1_Pooling with last-token pooling, 2_Normalize, config_sentence_transformers.json with a query prompt
 * and no default, tokenizer.json whose post-processor appends {@code <|endoftext|>}, tokenizer_config.json) with tiny
 * sizes, or a Qwen2-shaped one; {@link #embed} is the naive forward pass of the same model.
 */
public final class DecoderEmbedderFixture {
  /** The query prompt of config_sentence_transformers.json (Qwen3-Embedding's form). */
  public static final String QUERY_PROMPT = "Instruct: Given a response, retrieve a response that means the same\nQuery:";
  public static final int HIDDEN = 64;
  public static final int LAYERS = 2;
  public static final int HEADS = 4;
  public static final int KV_HEADS = 2;
  public static final int HEAD_DIM = 16;
  public static final int INTERMEDIATE = 96;
  public static final double ROPE_THETA = 1_000_000.0;
  public static final double EPS = 1e-6;

  /** The written directory: its weights (base-model names) and the id of the EOS token its tokenizer appends. */
  public record Model(Path dir, Map<String, FloatTensor> weights, int vocab, int eosId) {}

  private DecoderEmbedderFixture() {}

  /** Whether the real Qwen3 tokenizer beside the repository is there (else a small word-level one is written). */
  public static boolean realTokenizer() {
    return SharedData.tokenizer("qwen3") != null;
  }

  /**
   * Writes the directory. {@code causalLmNames}: weights under {@code model.} plus an {@code lm_head.weight}, as a
   * causal-LM checkpoint holds them, instead of the base-model names sentence-transformers saves.
   */
  public static Model write(Path dir, boolean causalLmNames, long seed) throws IOException {
    return write(dir, causalLmNames, seed, realTokenizer());
  }

  /** {@link #write(Path, boolean, long)} with the real Qwen3 tokenizer or ({@code real} false) the word-level one. */
  public static Model write(Path dir, boolean causalLmNames, long seed, boolean real) throws IOException {
    return write(dir, causalLmNames, seed, real, "qwen3");
  }

  /**
   * {@link #write(Path, boolean, long, boolean)} of {@code modelType} "qwen3" (q/k norms) or "qwen2" (q/k/v biases,
   * no q/k norms, no head_dim key: hidden / heads is the same 16).
   */
  public static Model write(Path dir, boolean causalLmNames, long seed, boolean real, String modelType)
      throws IOException {
    boolean qwen2 = modelType.equals("qwen2");
    Files.createDirectories(dir);
    int[] vocabAndEos = writeTokenizer(dir, real);
    int vocab = vocabAndEos[0];
    ObjectNode config = Json.MAPPER.createObjectNode();
    config.putArray("architectures").add(qwen2 ? "Qwen2ForCausalLM" : "Qwen3ForCausalLM");
    config.put("model_type", modelType);
    config.put("hidden_size", HIDDEN);
    config.put("intermediate_size", INTERMEDIATE);
    config.put("num_hidden_layers", LAYERS);
    config.put("num_attention_heads", HEADS);
    config.put("num_key_value_heads", KV_HEADS);
    if (!qwen2) {
      config.put("head_dim", HEAD_DIM);
    }
    config.put("vocab_size", vocab);
    config.put("rope_theta", ROPE_THETA);
    config.put("rms_norm_eps", EPS);
    config.put("max_position_embeddings", 32768);
    config.put("tie_word_embeddings", false);
    config.put("torch_dtype", "float32");
    Files.writeString(dir.resolve("config.json"), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(config));
    Map<String, FloatTensor> weights = weights(vocab, seed, qwen2);
    LinkedHashMap<String, FloatTensor> saved = new LinkedHashMap<>();
    Random r = new Random(seed + 1);
    weights.forEach((k, v) -> saved.put(causalLmNames ? "model." + k : k, v));
    if (causalLmNames) {
      saved.put("lm_head.weight", random(r, 0.05f, 0f, vocab, HIDDEN));
    }
    Safetensors.write(dir.resolve("model.safetensors"), saved, Safetensors.DType.F32, Map.of("format", "pt"));
    Files.writeString(dir.resolve("modules.json"), "[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":"
        + "\"sentence_transformers.models.Transformer\"},{\"idx\":1,\"name\":\"1\",\"path\":\"1_Pooling\",\"type\":"
        + "\"sentence_transformers.models.Pooling\"},{\"idx\":2,\"name\":\"2\",\"path\":\"2_Normalize\",\"type\":"
        + "\"sentence_transformers.models.Normalize\"}]");
    Files.createDirectories(dir.resolve("1_Pooling"));
    Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\":" + HIDDEN
        + ",\"pooling_mode_cls_token\":false,\"pooling_mode_mean_tokens\":false,\"pooling_mode_max_tokens\":false,"
        + "\"pooling_mode_mean_sqrt_len_tokens\":false,\"pooling_mode_weightedmean_tokens\":false,"
        + "\"pooling_mode_lasttoken\":true,\"include_prompt\":true}");
    Files.createDirectories(dir.resolve("2_Normalize"));
    ObjectNode st = Json.MAPPER.createObjectNode();
    st.putObject("prompts").put("query", QUERY_PROMPT).put("document", "");
    st.putNull("default_prompt_name");
    st.put("similarity_fn_name", "cosine");
    Files.writeString(dir.resolve("config_sentence_transformers.json"), st.toString());
    return new Model(dir, weights, vocab, vocabAndEos[1]);
  }

  /** tokenizer.json (+ tokenizer_config.json); returns {vocab size, EOS id}. */
  private static int[] writeTokenizer(Path dir, boolean useReal) throws IOException {
    Path real = useReal ? SharedData.tokenizer("qwen3") : null;
    ObjectNode tok;
    if (real != null) {
      tok = (ObjectNode) Json.MAPPER.readTree(Files.readString(real.resolve("tokenizer.json")));
      ObjectNode config = (ObjectNode) Json.MAPPER.readTree(Files.readString(real.resolve("tokenizer_config.json")));
      config.put("padding_side", "left");
      Files.writeString(dir.resolve("tokenizer_config.json"), config.toString());
    } else {
      tok = Json.MAPPER.createObjectNode();
      tok.put("version", "1.0");
      tok.putNull("truncation");
      tok.putNull("padding");
      ArrayNode added = tok.putArray("added_tokens");
      added.addObject().put("id", 0).put("content", "<unk>").put("single_word", false).put("lstrip", false)
          .put("rstrip", false).put("normalized", false).put("special", true);
      added.addObject().put("id", 1).put("content", "<|endoftext|>").put("single_word", false).put("lstrip", false)
          .put("rstrip", false).put("normalized", false).put("special", true);
      tok.putObject("normalizer").put("type", "Lowercase");
      tok.putObject("pre_tokenizer").put("type", "Whitespace");
      tok.putNull("decoder");
      ObjectNode model = tok.putObject("model");
      model.put("type", "WordLevel");
      ObjectNode words = model.putObject("vocab");
      words.put("<unk>", 0);
      words.put("<|endoftext|>", 1);
      String[] list = ("instruct : given a response , retrieve that means the same query paris is capital of france . "
          + "i like turtles cat sat on mat dog ran in park sun shines bright today it rains hard").split(" ");
      int id = 2;
      for (String w : list) {
        if (!words.has(w)) {
          words.put(w, id++);
        }
      }
      model.put("unk_token", "<unk>");
      Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 131072, \"padding_side\": \"left\"}");
    }
    int eos = 0;
    int maxId = 0;
    for (var t : tok.path("added_tokens")) {
      maxId = Math.max(maxId, t.path("id").asInt());
      if (t.path("content").asText().equals("<|endoftext|>")) {
        eos = t.path("id").asInt();
      }
    }
    for (var e : (Iterable<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>>) () -> tok.path("model").path("vocab").fields()) {
      maxId = Math.max(maxId, e.getValue().asInt());
    }
    // Qwen3-Embedding's post-processor: the text, then <|endoftext|>
    ObjectNode post = Json.MAPPER.createObjectNode();
    post.put("type", "TemplateProcessing");
    ArrayNode single = post.putArray("single");
    single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    single.addObject().putObject("SpecialToken").put("id", "<|endoftext|>").put("type_id", 0);
    ArrayNode pair = post.putArray("pair");
    pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
    pair.addObject().putObject("SpecialToken").put("id", "<|endoftext|>").put("type_id", 1);
    ObjectNode special = post.putObject("special_tokens").putObject("<|endoftext|>");
    special.put("id", "<|endoftext|>");
    special.putArray("ids").add(eos);
    special.putArray("tokens").add("<|endoftext|>");
    tok.set("post_processor", post);
    Files.writeString(dir.resolve("tokenizer.json"), tok.toString());
    return new int[] {maxId + 1, eos};
  }

  /**
   * Random Qwen3 (or, {@code qwen2}, Qwen2: q/k/v biases instead of q/k norms) weights under base-model names
   * (embed_tokens.weight, layers.N..., norm.weight).
   */
  public static Map<String, FloatTensor> weights(int vocab, long seed, boolean qwen2) {
    Random r = new Random(seed);
    LinkedHashMap<String, FloatTensor> w = new LinkedHashMap<>();
    w.put("embed_tokens.weight", random(r, 1f, 0f, vocab, HIDDEN));
    for (int i = 0; i < LAYERS; i++) {
      String p = "layers." + i + ".";
      w.put(p + "input_layernorm.weight", random(r, 0.2f, 1f, HIDDEN));
      w.put(p + "self_attn.q_proj.weight", random(r, 0.3f, 0f, HEADS * HEAD_DIM, HIDDEN));
      w.put(p + "self_attn.k_proj.weight", random(r, 0.3f, 0f, KV_HEADS * HEAD_DIM, HIDDEN));
      w.put(p + "self_attn.v_proj.weight", random(r, 0.3f, 0f, KV_HEADS * HEAD_DIM, HIDDEN));
      w.put(p + "self_attn.o_proj.weight", random(r, 0.2f, 0f, HIDDEN, HEADS * HEAD_DIM));
      if (qwen2) {
        w.put(p + "self_attn.q_proj.bias", random(r, 0.5f, 0f, HEADS * HEAD_DIM));
        w.put(p + "self_attn.k_proj.bias", random(r, 0.5f, 0f, KV_HEADS * HEAD_DIM));
        w.put(p + "self_attn.v_proj.bias", random(r, 0.5f, 0f, KV_HEADS * HEAD_DIM));
      } else {
        w.put(p + "self_attn.q_norm.weight", random(r, 0.2f, 1f, HEAD_DIM));
        w.put(p + "self_attn.k_norm.weight", random(r, 0.2f, 1f, HEAD_DIM));
      }
      w.put(p + "post_attention_layernorm.weight", random(r, 0.2f, 1f, HIDDEN));
      w.put(p + "mlp.gate_proj.weight", random(r, 0.2f, 0f, INTERMEDIATE, HIDDEN));
      w.put(p + "mlp.up_proj.weight", random(r, 0.2f, 0f, INTERMEDIATE, HIDDEN));
      w.put(p + "mlp.down_proj.weight", random(r, 0.2f, 0f, HIDDEN, INTERMEDIATE));
    }
    w.put("norm.weight", random(r, 0.2f, 1f, HIDDEN));
    return w;
  }

  private static FloatTensor random(Random r, float scale, float offset, long... shape) {
    float[] d = new float[(int) FloatTensor.numel(shape)];
    for (int i = 0; i < d.length; i++) {
      d[i] = offset + scale * (r.nextFloat() * 2 - 1);
    }
    return new FloatTensor(shape, d);
  }

  /**
   * The naive last-token embedding of one unpadded sequence: embedding, per layer RMSNorm, q/k/v, q/k RMSNorm per
   * head, RoPE (rope_theta, rotate-half), causal GQA attention, o_proj, SwiGLU MLP; final norm; the last token's
   * vector, L2-normalised.
   */
  public static float[] embed(Map<String, FloatTensor> w, long[] ids) {
    int n = ids.length;
    double[][] x = new double[n][HIDDEN];
    float[] e = w.get("embed_tokens.weight").data();
    for (int t = 0; t < n; t++) {
      for (int j = 0; j < HIDDEN; j++) {
        x[t][j] = e[(int) ids[t] * HIDDEN + j];
      }
    }
    int group = HEADS / KV_HEADS;
    for (int l = 0; l < LAYERS; l++) {
      String p = "layers." + l + ".";
      double[][] q = new double[n][];
      double[][] k = new double[n][];
      double[][] v = new double[n][];
      for (int t = 0; t < n; t++) {
        double[] h = rms(x[t], w.get(p + "input_layernorm.weight").data());
        q[t] = addBias(matvec(w.get(p + "self_attn.q_proj.weight").data(), h, HEADS * HEAD_DIM), w.get(p + "self_attn.q_proj.bias"));
        k[t] = addBias(matvec(w.get(p + "self_attn.k_proj.weight").data(), h, KV_HEADS * HEAD_DIM), w.get(p + "self_attn.k_proj.bias"));
        v[t] = addBias(matvec(w.get(p + "self_attn.v_proj.weight").data(), h, KV_HEADS * HEAD_DIM), w.get(p + "self_attn.v_proj.bias"));
        headNormAndRope(q[t], HEADS, w.get(p + "self_attn.q_norm.weight"), t);
        headNormAndRope(k[t], KV_HEADS, w.get(p + "self_attn.k_norm.weight"), t);
      }
      double[][] ctx = new double[n][HEADS * HEAD_DIM];
      for (int t = 0; t < n; t++) {
        for (int hh = 0; hh < HEADS; hh++) {
          int kv = hh / group;
          double[] s = new double[t + 1];
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j <= t; j++) {
            double dot = 0;
            for (int d = 0; d < HEAD_DIM; d++) {
              dot += q[t][hh * HEAD_DIM + d] * k[j][kv * HEAD_DIM + d];
            }
            s[j] = dot / Math.sqrt(HEAD_DIM);
            max = Math.max(max, s[j]);
          }
          double sum = 0;
          for (int j = 0; j <= t; j++) {
            s[j] = Math.exp(s[j] - max);
            sum += s[j];
          }
          for (int j = 0; j <= t; j++) {
            for (int d = 0; d < HEAD_DIM; d++) {
              ctx[t][hh * HEAD_DIM + d] += s[j] / sum * v[j][kv * HEAD_DIM + d];
            }
          }
        }
      }
      for (int t = 0; t < n; t++) {
        double[] o = matvec(w.get(p + "self_attn.o_proj.weight").data(), ctx[t], HIDDEN);
        for (int j = 0; j < HIDDEN; j++) {
          x[t][j] += o[j];
        }
        double[] h = rms(x[t], w.get(p + "post_attention_layernorm.weight").data());
        double[] gate = matvec(w.get(p + "mlp.gate_proj.weight").data(), h, INTERMEDIATE);
        double[] up = matvec(w.get(p + "mlp.up_proj.weight").data(), h, INTERMEDIATE);
        for (int j = 0; j < INTERMEDIATE; j++) {
          gate[j] = gate[j] / (1 + Math.exp(-gate[j])) * up[j];
        }
        double[] down = matvec(w.get(p + "mlp.down_proj.weight").data(), gate, HIDDEN);
        for (int j = 0; j < HIDDEN; j++) {
          x[t][j] += down[j];
        }
      }
    }
    double[] last = rms(x[n - 1], w.get("norm.weight").data());
    double norm = 0;
    for (double d : last) {
      norm += d * d;
    }
    norm = Math.sqrt(norm);
    float[] out = new float[HIDDEN];
    for (int j = 0; j < HIDDEN; j++) {
      out[j] = (float) (last[j] / norm);
    }
    return out;
  }

  private static double[] rms(double[] x, float[] weight) {
    double ss = 0;
    for (double d : x) {
      ss += d * d;
    }
    double inv = 1 / Math.sqrt(ss / x.length + EPS);
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] * inv * weight[i];
    }
    return out;
  }

  /** W [rows, x.length] times x. */
  private static double[] matvec(float[] wt, double[] x, int rows) {
    double[] out = new double[rows];
    for (int r = 0; r < rows; r++) {
      double s = 0;
      for (int c = 0; c < x.length; c++) {
        s += wt[r * x.length + c] * x[c];
      }
      out[r] = s;
    }
    return out;
  }

  /** {@code x} plus {@code bias} (Qwen2's q/k/v), or {@code x} when there is none (Qwen3). */
  private static double[] addBias(double[] x, FloatTensor bias) {
    if (bias != null) {
      for (int i = 0; i < x.length; i++) {
        x[i] += bias.data()[i];
      }
    }
    return x;
  }

  /**
   * Per head: RMSNorm over head_dim (Qwen3's q_norm/k_norm; none when {@code normWeight} is null), then rotary at
   * position {@code pos} (rotate-half pairs i, i + hd/2).
   */
  private static void headNormAndRope(double[] x, int heads, FloatTensor normWeight, int pos) {
    int half = HEAD_DIM / 2;
    for (int h = 0; h < heads; h++) {
      double[] head = new double[HEAD_DIM];
      System.arraycopy(x, h * HEAD_DIM, head, 0, HEAD_DIM);
      if (normWeight != null) {
        head = rms(head, normWeight.data());
      }
      for (int i = 0; i < half; i++) {
        double angle = pos * Math.pow(ROPE_THETA, -2.0 * i / HEAD_DIM);
        double c = Math.cos(angle);
        double s = Math.sin(angle);
        x[h * HEAD_DIM + i] = head[i] * c - head[i + half] * s;
        x[h * HEAD_DIM + i + half] = head[i + half] * c + head[i] * s;
      }
    }
  }
}
