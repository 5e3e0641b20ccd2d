// Decoder embedders (Qwen3-Embedding-shaped): rlsr's ONNX graph through SentenceEmbedder against a naive Java forward
// pass, batch and padding invariance, prompts, an Optimum-style onnx/ export, and the refusals.
package dev.rlsr.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.rlsr.embedder.EmbedderException;
import dev.rlsr.embedder.EmbeddingReward;
import dev.rlsr.embedder.Pooling;
import dev.rlsr.embedder.SentenceEmbedder;
import dev.rlsr.policy.testing.DecoderEmbedderFixture;
import dev.rlsr.policy.testing.DecoderEmbedderFixture.Model;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecoderEmbedderTest {
  @TempDir Path tmp;

  private static final List<String> TEXTS = List.of("Paris is the capital of France .",
      "i like turtles", "the cat sat on the mat and the dog ran in the park , the sun shines bright today", "");

  @Test
  void baseModelNamesMatchTheNaiveForwardPassAtAnyBatchSize() throws Exception {
    Model m = DecoderEmbedderFixture.write(tmp.resolve("emb"), false, 7);
    checkAgainstNaive(m, m.dir());
  }

  @Test
  void causalLmNamesWithAnLmHeadLoadToo() throws Exception {
    Model m = DecoderEmbedderFixture.write(tmp.resolve("emb"), true, 8);
    checkAgainstNaive(m, m.dir());
  }

  private void checkAgainstNaive(Model m, Path dir) throws Exception {
    try (SentenceEmbedder batched = SentenceEmbedder.load(dir.toString(), 2, 4);
        SentenceEmbedder single = SentenceEmbedder.load(dir.toString(), 1, 1);
        HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"))) {
      assertThat(batched.pooling()).isEqualTo(Pooling.LASTTOKEN);
      assertThat(batched.normalizes()).isTrue();
      assertThat(batched.dimension()).isEqualTo(DecoderEmbedderFixture.HIDDEN);
      assertThat(batched.textPrefix()).isEmpty(); // default_prompt_name null: no prompt
      float[][] all = batched.embed(TEXTS);
      for (int i = 0; i < TEXTS.size(); i++) {
        long[] ids = tok.encode(TEXTS.get(i)).getIds();
        assertThat(ids[ids.length - 1]).as("the post-processor appends <|endoftext|>").isEqualTo(m.eosId());
        float[] naive = DecoderEmbedderFixture.embed(m.weights(), ids);
        assertClose(all[i], naive, "text " + i);
        assertClose(single.embed(List.of(TEXTS.get(i)))[0], all[i], "text " + i + " alone");
      }
    }
  }

  @Test
  void aQwen2ShapedDirectoryWithQkvBiasesMatchesToo() throws Exception {
    Model m = DecoderEmbedderFixture.write(tmp.resolve("emb"), true, 14, DecoderEmbedderFixture.realTokenizer(), "qwen2");
    assertThat(m.weights()).containsKey("layers.0.self_attn.q_proj.bias").doesNotContainKey("layers.0.self_attn.q_norm.weight");
    checkAgainstNaive(m, m.dir());
  }

  @Test
  void aWordLevelTokenizerWithTheSamePostProcessorWorksToo() throws Exception {
    Model m = DecoderEmbedderFixture.write(tmp.resolve("emb"), false, 13, false);
    assertThat(m.vocab()).isLessThan(100);
    checkAgainstNaive(m, m.dir());
  }

  @Test
  void theNamedPromptGoesBeforeEveryText() throws Exception {
    Model m = DecoderEmbedderFixture.write(tmp.resolve("emb"), false, 9);
    try (SentenceEmbedder e = SentenceEmbedder.load(m.dir().toString(), 1, 4, "query");
        HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(m.dir().resolve("tokenizer.json"))) {
      assertThat(e.textPrefix()).isEqualTo(DecoderEmbedderFixture.QUERY_PROMPT);
      float[] got = e.embed(List.of("i like turtles"))[0];
      float[] naive = DecoderEmbedderFixture.embed(m.weights(),
          tok.encode(DecoderEmbedderFixture.QUERY_PROMPT + "i like turtles").getIds());
      assertClose(got, naive, "prompted");
      // the reward embeds candidate and reference with the same prompt: identical texts score 1
      float[] r = new EmbeddingReward(e).score(List.of("i like turtles", "paris"), List.of("i like turtles", "i like turtles"));
      assertThat(r[0]).isGreaterThan(0.9999f);
      assertThat(r[1]).isLessThan(0.9999f);
    }
  }

  @Test
  void theGraphGivesTheSameLastTokenUnderLeftAndRightPadding() throws Exception {
    Model m = DecoderEmbedderFixture.write(tmp.resolve("emb"), false, 10);
    Path onnx = tmp.resolve("g/model.onnx");
    new DecoderEncoderGraphs().writeOnnx(m.dir(), onnx);
    long[] shortIds = {5, 6, 7, m.eosId()};
    long[] longIds = {8, 9, 10, 11, 12, 13, m.eosId()};
    int len = longIds.length;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
      assertThat(s.getInputNames()).containsExactlyInAnyOrder("input_ids", "attention_mask", "position_ids");
      assertThat(s.getOutputNames()).containsExactly("last_hidden_state");
      float[] alone = lastHidden(env, s, new long[][] {shortIds}, new long[][] {{1, 1, 1, 1}}, 3);
      for (boolean left : new boolean[] {true, false}) {
        long[] padded = new long[len];
        long[] mask = new long[len];
        int off = left ? len - shortIds.length : 0;
        for (int t = 0; t < shortIds.length; t++) {
          padded[off + t] = shortIds[t];
          mask[off + t] = 1;
        }
        float[] got = lastHidden(env, s, new long[][] {padded, longIds}, new long[][] {mask, {1, 1, 1, 1, 1, 1, 1}},
            off + shortIds.length - 1);
        assertClose(normalised(got), normalised(alone), left ? "left padding" : "right padding");
      }
    }
  }

  @Test
  void anOptimumStyleOnnxDirectoryLoadsWithPositionIds() throws Exception {
    Model m = DecoderEmbedderFixture.write(tmp.resolve("emb"), false, 11);
    Path exported = tmp.resolve("exported");
    Files.createDirectories(exported.resolve("onnx"));
    new DecoderEncoderGraphs().writeOnnx(m.dir(), exported.resolve("onnx/model.onnx"));
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "config.json", "modules.json",
        "config_sentence_transformers.json", "1_Pooling/config.json")) {
      Files.createDirectories(exported.resolve(f).getParent());
      Files.copy(m.dir().resolve(f), exported.resolve(f));
    }
    Files.createDirectories(exported.resolve("2_Normalize"));
    try (SentenceEmbedder fromOnnx = SentenceEmbedder.load(exported.toString(), 1, 4);
        SentenceEmbedder built = SentenceEmbedder.load(m.dir().toString(), 1, 4)) {
      float[][] a = fromOnnx.embed(TEXTS);
      float[][] b = built.embed(TEXTS);
      for (int i = 0; i < TEXTS.size(); i++) {
        assertClose(a[i], b[i], "text " + i);
      }
    }
  }

  @Test
  void brokenDecoderDirectoriesAreRefusedNamingTheFileOrKey() throws Exception {
    Model m = DecoderEmbedderFixture.write(tmp.resolve("emb"), false, 12);
    Files.delete(m.dir().resolve("model.safetensors"));
    assertThatThrownBy(() -> SentenceEmbedder.load(m.dir().toString(), 1, 4))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("model.safetensors")
        .hasMessageContaining("onnx/model.onnx");

    Model other = DecoderEmbedderFixture.write(tmp.resolve("other"), false, 12);
    Path config = other.dir().resolve("config.json");
    Files.writeString(config, Files.readString(config).replace("\"qwen3\"", "\"gpt_neox\""));
    assertThatThrownBy(() -> SentenceEmbedder.load(other.dir().toString(), 1, 4))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("config.json")
        .hasMessageContaining("model_type \"gpt_neox\"");
    Files.writeString(config, Files.readString(config).replace("\"gpt_neox\"", "\"llama\""));
    assertThatThrownBy(() -> SentenceEmbedder.load(other.dir().toString(), 1, 4))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("model_type \"llama\"")
        .hasMessageContaining("qwen3, qwen2");

    Model partial = DecoderEmbedderFixture.write(tmp.resolve("partial"), false, 12);
    Map<String, dev.rlsr.policy.model.FloatTensor> w = new java.util.LinkedHashMap<>(partial.weights());
    w.remove("layers.1.mlp.down_proj.weight");
    dev.rlsr.policy.checkpoint.Safetensors.write(partial.dir().resolve("model.safetensors"), w,
        dev.rlsr.policy.checkpoint.Safetensors.DType.F32, Map.of());
    assertThatThrownBy(() -> SentenceEmbedder.load(partial.dir().toString(), 1, 4))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("\"layers.1.mlp.down_proj.weight\"");
  }

  private static float[] lastHidden(OrtEnvironment env, OrtSession s, long[][] ids, long[][] mask, int at)
      throws Exception {
    long[][] pos = new long[ids.length][ids[0].length];
    for (int b = 0; b < ids.length; b++) {
      long seen = 0;
      for (int t = 0; t < ids[b].length; t++) {
        seen += mask[b][t];
        pos[b][t] = mask[b][t] == 0 ? 1 : seen - 1;
      }
    }
    try (OnnxTensor i = OnnxTensor.createTensor(env, ids); OnnxTensor am = OnnxTensor.createTensor(env, mask);
        OnnxTensor p = OnnxTensor.createTensor(env, pos);
        OrtSession.Result r = s.run(Map.of("input_ids", i, "attention_mask", am, "position_ids", p))) {
      float[][][] h = (float[][][]) r.get(0).getValue();
      return h[0][at];
    }
  }

  private static float[] normalised(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (v[i] / Math.sqrt(n));
    }
    return out;
  }

  /** Cosine above 1 - 1e-5 and every component within 1e-4. */
  private static void assertClose(float[] got, float[] want, String what) {
    assertThat(got).as(what).hasSameSizeAs(want);
    double dot = 0;
    double a = 0;
    double b = 0;
    for (int i = 0; i < got.length; i++) {
      dot += (double) got[i] * want[i];
      a += (double) got[i] * got[i];
      b += (double) want[i] * want[i];
      assertThat(got[i]).as(what + " [" + i + "]").isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-4f));
    }
    assertThat(dot / Math.sqrt(a * b)).as(what + " cosine").isGreaterThan(1 - 1e-5);
  }
}
