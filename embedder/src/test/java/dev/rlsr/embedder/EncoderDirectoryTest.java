// Encoders from sentence-transformers-style directories, e5-small-v2, and the clear errors for broken encoders and files.
package dev.rlsr.embedder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.model.embedding.onnx.e5smallv2.E5SmallV2EmbeddingModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EncoderDirectoryTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODULES = "[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":\"sentence_transformers.models.Transformer\"},"
      + "{\"idx\":1,\"name\":\"1\",\"path\":\"1_Pooling\",\"type\":\"sentence_transformers.models.Pooling\"},"
      + "{\"idx\":2,\"name\":\"2\",\"path\":\"2_Normalize\",\"type\":\"sentence_transformers.models.Normalize\"}]";

  @TempDir static Path tmp;
  private static Path model;
  private static byte[] tokenizer;

  @BeforeAll
  static void extractMiniLm() throws IOException {
    model = tmp.resolve("all-minilm-l6-v2.onnx");
    try (InputStream in = resource("all-minilm-l6-v2.onnx")) {
      Files.copy(in, model);
    }
    try (InputStream in = resource("all-minilm-l6-v2-tokenizer.json")) {
      tokenizer = in.readAllBytes();
    }
  }

  private static InputStream resource(String name) {
    return EncoderDirectoryTest.class.getClassLoader().getResourceAsStream(name);
  }

  /** A MiniLM export directory: model (linked), tokenizer, and the given pooling mode key (null: no Pooling module). */
  private static Path exportDir(String name, String modelPath, String poolingKey, boolean normalize) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Path target = dir.resolve(modelPath);
    Files.createDirectories(target.getParent());
    Files.createSymbolicLink(target, model);
    Files.write(dir.resolve("tokenizer.json"), tokenizer);
    if (poolingKey != null) {
      Files.createDirectories(dir.resolve("1_Pooling"));
      Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 384, \"pooling_mode_cls_token\": false, "
          + "\"pooling_mode_mean_tokens\": false, \"pooling_mode_max_tokens\": false, \"pooling_mode_mean_sqrt_len_tokens\": false, \""
          + poolingKey + "\": true}");
    }
    if (normalize) {
      Files.writeString(dir.resolve("modules.json"), MODULES);
    }
    return dir;
  }

  @Test
  void exportDirectoryReproducesTheBuiltIn() throws IOException {
    Path dir = exportDir("st-export", "model.onnx", "pooling_mode_mean_tokens", true);
    List<String> texts = List.of("A directory encoder.", "It should match the built-in one exactly.");
    try (SentenceEmbedder fromDir = SentenceEmbedder.load(dir.toString(), 2);
        SentenceEmbedder builtIn = SentenceEmbedder.load(SentenceEmbedder.DEFAULT, 2)) {
      assertThat(fromDir.pooling()).isEqualTo(Pooling.MEAN);
      assertThat(fromDir.normalizes()).isTrue();
      assertThat(fromDir.windowTokens()).isEqualTo(510);
      float[][] a = fromDir.embed(texts);
      float[][] b = builtIn.embed(texts);
      for (int i = 0; i < texts.size(); i++) {
        assertThat(EmbeddingReward.cosine(a[i], b[i])).isGreaterThanOrEqualTo(0.99999f);
      }
    }
  }

  @Test
  void onnxSubdirectoryClsPoolingWithoutNormalize() throws IOException {
    Path dir = exportDir("cls-export", "onnx/model.onnx", "pooling_mode_cls_token", false);
    try (SentenceEmbedder cls = SentenceEmbedder.load(dir.toString(), 2)) {
      assertThat(cls.pooling()).isEqualTo(Pooling.CLS);
      assertThat(cls.normalizes()).isFalse();
      float[] v = cls.embed(List.of("not normalised"))[0];
      double norm = Math.sqrt(dot(v, v));
      assertThat(norm).isGreaterThan(1.01); // raw [CLS] vectors of MiniLM are far from unit length
    }
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  @Test
  void maxSeqLengthOfSentenceBertConfigSetsTheWindow() throws IOException {
    Path dir = exportDir("st-maxlen", "model.onnx", "pooling_mode_mean_tokens", true);
    Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 128, \"do_lower_case\": false}");
    try (SentenceEmbedder e = SentenceEmbedder.load(dir.toString(), 1)) {
      assertThat(e.windowTokens()).isEqualTo(126); // 128 minus [CLS] and [SEP]
    }
    Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": \"long\"}");
    assertThatThrownBy(() -> SentenceEmbedder.load(dir.toString(), 1))
        .hasMessageContaining("sentence_bert_config.json").hasMessageContaining("max_seq_length");
  }

  @Test
  void lastTokenPoolingIsReadFromThePoolingConfig() throws IOException {
    Path dir = exportDir("last-export", "model.onnx", "pooling_mode_lasttoken", false);
    try (SentenceEmbedder e = SentenceEmbedder.load(dir.toString(), 1)) {
      assertThat(e.pooling()).isEqualTo(Pooling.LASTTOKEN);
      float[][] v = e.embed(List.of("short", "a longer text than the first one"));
      assertThat(v[0]).hasSize(384);
      assertThat(v[0]).isNotEqualTo(v[1]);
    }
  }

  @Test
  void theDefaultPromptOfConfigSentenceTransformersPrefixesEveryText() throws IOException {
    Path dir = exportDir("prompted", "model.onnx", "pooling_mode_mean_tokens", true);
    Files.writeString(dir.resolve("config_sentence_transformers.json"), "{\"prompts\": {\"query\": \"Instruct: "
        + "compare the answers\\nQuery: \", \"document\": \"\"}, \"default_prompt_name\": \"query\"}");
    List<String> texts = List.of("Red is a primary color.", "Blue is one too.");
    try (SentenceEmbedder prompted = SentenceEmbedder.load(dir.toString(), 1);
        SentenceEmbedder builtIn = SentenceEmbedder.load(SentenceEmbedder.DEFAULT, 1)) {
      assertThat(prompted.textPrefix()).isEqualTo("Instruct: compare the answers\nQuery: ");
      float[][] a = prompted.embed(texts);
      float[][] b = builtIn.embed(texts.stream().map(t -> "Instruct: compare the answers\nQuery: " + t).toList());
      for (int i = 0; i < a.length; i++) {
        for (int j = 0; j < a[i].length; j++) {
          assertThat(a[i][j]).isCloseTo(b[i][j], org.assertj.core.data.Offset.offset(1e-6f));
        }
      }
    }
    // --embedder-prompt: a prompt by name, or the text itself
    try (SentenceEmbedder byName = SentenceEmbedder.load(dir.toString(), 1, 8, "document");
        SentenceEmbedder byText = SentenceEmbedder.load(dir.toString(), 1, 8, "Represent: ");
        SentenceEmbedder e5 = SentenceEmbedder.load(SentenceEmbedder.E5_SMALL_V2, 1, 8, "passage")) {
      assertThat(byName.textPrefix()).isEmpty();
      assertThat(byText.textPrefix()).isEqualTo("Represent: ");
      assertThat(e5.textPrefix()).isEqualTo("passage: ");
    }
    Files.writeString(dir.resolve("config_sentence_transformers.json"), "{\"prompts\": {\"query\": \"q: \"}, "
        + "\"default_prompt_name\": \"passage\"}");
    assertThatThrownBy(() -> SentenceEmbedder.load(dir.toString(), 1)).isInstanceOf(EmbedderException.class)
        .hasMessageContaining("config_sentence_transformers.json").hasMessageContaining("\"passage\"")
        .hasMessageContaining("[query]");
    Files.writeString(dir.resolve("config_sentence_transformers.json"), "{\"prompts\": {}, \"default_prompt_name\": null}");
    try (SentenceEmbedder none = SentenceEmbedder.load(dir.toString(), 1)) {
      assertThat(none.textPrefix()).isEmpty();
    }
  }

  @Test
  void missingOrIncompleteDirectoriesAreClearErrors() throws IOException {
    assertThatThrownBy(() -> SentenceEmbedder.load(tmp.resolve("nope").toString()))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("neither a built-in encoder");
    assertThatThrownBy(() -> SentenceEmbedder.load(model.toString()))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("is a file, not a directory");
    Path noModel = Files.createDirectories(tmp.resolve("no-model"));
    Files.write(noModel.resolve("tokenizer.json"), tokenizer);
    assertThatThrownBy(() -> SentenceEmbedder.load(noModel.toString()))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("neither model.onnx nor onnx/model.onnx");
    Path noTokenizer = Files.createDirectories(tmp.resolve("no-tokenizer"));
    Files.createSymbolicLink(noTokenizer.resolve("model.onnx"), model);
    assertThatThrownBy(() -> SentenceEmbedder.load(noTokenizer.toString()))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("has no tokenizer.json");
  }

  @Test
  void truncatedModelIsAClearError() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("truncated"));
    byte[] head = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(model)) {
      assertThat(in.readNBytes(head, 0, head.length)).isEqualTo(head.length);
    }
    Files.write(dir.resolve("model.onnx"), head);
    Files.write(dir.resolve("tokenizer.json"), tokenizer);
    assertThatThrownBy(() -> SentenceEmbedder.load(dir.toString()))
        .isInstanceOf(EmbedderException.class)
        .hasMessageContaining(dir.resolve("model.onnx").toString())
        .hasMessageContaining("not a complete ONNX model");
  }

  @Test
  void tokenizerLargerThanTheModelIsAClearError() throws IOException {
    Path dir = exportDir("big-vocab", "model.onnx", "pooling_mode_mean_tokens", true);
    ObjectNode json = (ObjectNode) MAPPER.readTree(tokenizer);
    ObjectNode vocab = (ObjectNode) json.path("model").path("vocab");
    for (int i = 0; i < 100; i++) {
      vocab.put("extraword" + i, 30522 + i); // MiniLM's embedding table has 30522 rows
    }
    MAPPER.writeValue(dir.resolve("tokenizer.json").toFile(), json);
    assertThatThrownBy(() -> SentenceEmbedder.load(dir.toString(), 2))
        .isInstanceOf(EmbedderException.class)
        .hasMessageContaining("does not match the encoder")
        .hasMessageContaining("30621");
  }

  @Test
  void badPoolingConfigsAreClearErrors() throws IOException {
    Path unsupported = exportDir("sqrt-pooling", "model.onnx", "pooling_mode_mean_sqrt_len_tokens", true);
    assertThatThrownBy(() -> SentenceEmbedder.load(unsupported.toString()))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("pooling_mode_mean_sqrt_len_tokens")
        .hasMessageContaining("does not support");
    Path broken = exportDir("broken-pooling", "model.onnx", "pooling_mode_mean_tokens", true);
    Files.writeString(broken.resolve("1_Pooling/config.json"), "{\"pooling_mode_mean_tokens\": tru");
    assertThatThrownBy(() -> SentenceEmbedder.load(broken.toString()))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("config.json is not valid JSON");
    Path missing = exportDir("missing-pooling", "model.onnx", null, true);
    assertThatThrownBy(() -> SentenceEmbedder.load(missing.toString()))
        .isInstanceOf(EmbedderException.class).hasMessageContaining("lists a Pooling module");
  }

  @Test
  void nonUtf8FileIsAClearError() throws IOException {
    Path file = tmp.resolve("latin1.txt");
    Files.write(file, "first line\ncaf\u00e9 au lait\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> Utf8Files.read(file))
        .isInstanceOf(EmbedderException.class)
        .hasMessageContaining("latin1.txt is not valid UTF-8")
        .hasMessageContaining("byte 0xE9 at line 2, column 4");
    Files.writeString(file, "\uFEFFcaf\u00e9");
    assertThat(Utf8Files.read(file)).isEqualTo("caf\u00e9");
  }

  /** e5-small-v2 puts "query: " before every text; with that prefix it matches langchain4j's E5SmallV2EmbeddingModel. */
  @Test
  void e5SmallV2UsesQueryPrefixAndMatchesLangchain4j() {
    List<String> texts = List.of("how do plants make food", "Photosynthesis turns light, water and CO2 into sugar.");
    try (SentenceEmbedder e5 = SentenceEmbedder.load(SentenceEmbedder.E5_SMALL_V2, 2)) {
      assertThat(e5.textPrefix()).isEqualTo("query: ");
      assertThat(e5.dimension()).isEqualTo(384);
      float[][] ours = e5.embed(texts);
      E5SmallV2EmbeddingModel langchain4j = new E5SmallV2EmbeddingModel();
      for (int i = 0; i < texts.size(); i++) {
        float[] theirs = langchain4j.embed("query: " + texts.get(i)).content().vector();
        assertThat(EmbeddingReward.cosine(ours[i], theirs)).as("text %d", i).isGreaterThanOrEqualTo(0.99999f);
      }
    }
  }
}
