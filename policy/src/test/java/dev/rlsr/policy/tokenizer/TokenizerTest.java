// Tokenizer loading (special tokens, templates, generation config), DJL round trips of TokenizerWriter output,
// BPE merge learning, and refusals (missing/invalid files, vocab larger than the model's).
package dev.rlsr.policy.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.checkpoint.Safetensors;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
  @TempDir Path tmp;

  private static final String TEXT = "Hello, wörld!  Ünïcödé 日本語 🙂\n\ttabs and 'quotes' it's 12345";

  @Test
  void byteLevelTokenizerRoundTripsAnyText() throws Exception {
    TinyCheckpoints.writeTokenizer(tmp, true);
    try (Tokenizer t = Tokenizer.load(tmp)) {
      int[] ids = t.encode(TEXT);
      assertThat(ids).hasSize(TEXT.getBytes(java.nio.charset.StandardCharsets.UTF_8).length); // no merges: 1 id/byte
      assertThat(java.util.Arrays.stream(ids).max().getAsInt()).isLessThan(256);
      assertThat(ids[0]).isEqualTo('H');
      assertThat(t.decode(ids)).isEqualTo(TEXT);
      String longText = "word ".repeat(600);
      assertThat(t.encode(longText)).hasSize(3000); // no truncation at DJL's default 512
    }
  }

  @Test
  void specialTokensAreSingleIdsAndSkippedWhenDecoding() throws Exception {
    TinyCheckpoints.writeTokenizer(tmp, true);
    try (Tokenizer t = Tokenizer.load(tmp)) {
      assertThat(t.encode("<|im_start|>hi<|im_end|>")).containsExactly(257, 'h', 'i', 258);
      assertThat(t.decode(new int[] {257, 'h', 'i', 258, 256})).isEqualTo("hi");
      assertThat(t.tokenId("<|im_end|>")).isEqualTo(TinyCheckpoints.IM_END);
      assertThat(t.tokenId("Ġ")).isEqualTo(' ');
      assertThat(t.tokenId("no such token")).isEqualTo(-1);
      assertThat(t.vocabSize()).isEqualTo(TinyCheckpoints.TOKENIZER_VOCAB);
    }
  }

  @Test
  void qwenAndLlamaFlavoursReadSpecialsFromAllFiles() {
    Path q = TinyCheckpoints.write(tmp.resolve("q"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 1);
    try (Tokenizer t = Tokenizer.load(q)) {
      assertThat(t.eosIds()).containsExactly(TinyCheckpoints.IM_END, TinyCheckpoints.ENDOFTEXT);
      assertThat(t.padId()).isEqualTo(TinyCheckpoints.ENDOFTEXT);
      assertThat(t.bosId()).isEqualTo(TinyCheckpoints.ENDOFTEXT); // config.json bos_token_id, as in Qwen2
      assertThat(t.addBosToPrompt()).isFalse();
      assertThat(t.chatTemplate()).contains(TinyCheckpoints.CHATML_TEMPLATE);
      assertThat(t.eosToken()).isEqualTo("<|im_end|>");
    }
    Path l = TinyCheckpoints.write(tmp.resolve("l"), TinyCheckpoints.llama(), Safetensors.DType.F32, 1);
    try (Tokenizer t = Tokenizer.load(l)) {
      assertThat(t.eosIds()).containsExactly(TinyCheckpoints.EOS);
      assertThat(t.padId()).isEqualTo(TinyCheckpoints.EOS);
      assertThat(t.bosId()).isEqualTo(TinyCheckpoints.BOS);
      assertThat(t.bosToken()).isEqualTo("<s>");
      assertThat(t.addBosToPrompt()).isTrue();
      assertThat(t.chatTemplate()).isEmpty();
      assertThat(t.encode("hi")).containsExactly('h', 'i'); // encode never adds BOS itself
    }
  }

  @Test
  void eosTokenComesFirstThenGenerationConfigIds() throws Exception {
    // Llama 3 Instruct style: eos_token is the end-of-turn token, generation_config lists several
    TinyCheckpoints.writeTokenizer(tmp, true); // eos_token <|im_end|>
    Files.writeString(tmp.resolve("generation_config.json"), "{\"eos_token_id\": [260, 256, 258]}");
    try (Tokenizer t = Tokenizer.load(tmp)) {
      assertThat(t.eosIds()).containsExactly(258, 260, 256);
      assertThat(t.isEos(260)).isTrue();
      assertThat(t.isEos(257)).isFalse();
    }
  }

  @Test
  void chatTemplateListFormAndAddedTokenObjects() throws Exception {
    TinyCheckpoints.writeTokenizer(tmp, false);
    ObjectNode tc = (ObjectNode) Json.MAPPER.readTree(tmp.resolve("tokenizer_config.json").toFile());
    var list = tc.putArray("chat_template");
    list.addObject().put("name", "tool_use").put("template", "TOOLS");
    list.addObject().put("name", "default").put("template", "DEFAULT");
    tc.putObject("eos_token").put("content", "<|endoftext|>").put("special", true);
    Json.MAPPER.writeValue(tmp.resolve("tokenizer_config.json").toFile(), tc);
    try (Tokenizer t = Tokenizer.load(tmp)) {
      assertThat(t.chatTemplate()).contains("DEFAULT");
      assertThat(t.eosIds()).containsExactly(TinyCheckpoints.ENDOFTEXT);
    }
    tc.putArray("chat_template").addObject().put("name", "tool_use").put("template", "TOOLS");
    Json.MAPPER.writeValue(tmp.resolve("tokenizer_config.json").toFile(), tc);
    assertThatThrownBy(() -> Tokenizer.load(tmp)).isInstanceOf(RlsrException.class)
        .hasMessageContaining("tokenizer_config.json").hasMessageContaining("default");
  }

  @Test
  void bosFromTemplatePostProcessorWhenAddBosTokenIsAbsent() throws Exception {
    // Llama 3 style: no add_bos_token, tokenizer.json's post-processor prepends BOS
    TinyCheckpoints.writeTokenizer(tmp, false);
    ObjectNode tc = (ObjectNode) Json.MAPPER.readTree(tmp.resolve("tokenizer_config.json").toFile());
    tc.remove("add_bos_token");
    Json.MAPPER.writeValue(tmp.resolve("tokenizer_config.json").toFile(), tc);
    ObjectNode tj = (ObjectNode) Json.MAPPER.readTree(tmp.resolve("tokenizer.json").toFile());
    ObjectNode pp = tj.putObject("post_processor");
    pp.put("type", "TemplateProcessing");
    var single = pp.putArray("single");
    single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
    single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    var pair = pp.putArray("pair");
    pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
    pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
    ObjectNode st = pp.putObject("special_tokens").putObject("<s>");
    st.put("id", "<s>");
    st.putArray("ids").add(TinyCheckpoints.BOS);
    st.putArray("tokens").add("<s>");
    Json.MAPPER.writeValue(tmp.resolve("tokenizer.json").toFile(), tj);
    try (Tokenizer t = Tokenizer.load(tmp)) {
      assertThat(t.addBosToPrompt()).isTrue();
      assertThat(t.encode("hi")).containsExactly('h', 'i');
    }
  }

  @Test
  void missingOrInvalidTokenizerJsonIsNamed() throws Exception {
    assertThatThrownBy(() -> Tokenizer.load(tmp)).isInstanceOf(RlsrException.class)
        .hasMessageContaining(tmp.resolve("tokenizer.json").toString()).hasMessageContaining("not found");
    Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": ");
    assertThatThrownBy(() -> Tokenizer.load(tmp)).isInstanceOf(RlsrException.class)
        .hasMessageContaining(tmp.resolve("tokenizer.json").toString()).hasMessageContaining("not valid JSON");
    Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"x\"]}}");
    assertThatThrownBy(() -> Tokenizer.load(tmp)).isInstanceOf(RlsrException.class)
        .hasMessageContaining(tmp.resolve("tokenizer.json").toString());
  }

  @Test
  void validateAgainstRefusesAVocabLargerThanTheModel() throws Exception {
    Path dir = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.qwen2(), Safetensors.DType.F32, 1);
    try (Tokenizer t = Tokenizer.load(dir)) {
      t.validateAgainst(ModelConfig.read(dir.resolve("config.json")), dir); // 261 ids into 272 rows: fine
      ModelConfig small = ModelConfig.builder("qwen2").vocabSize(260).hiddenSize(32).intermediateSize(64).layers(2)
          .heads(4).kvHeads(2).tied(true).ropeTheta(1e6).maxPositions(128).bosId(256).eosId(258).build();
      assertThatThrownBy(() -> t.validateAgainst(small, dir)).isInstanceOf(RlsrException.class)
          .hasMessageContaining("tokenizer.json").hasMessageContaining("vocab_size 260")
          .hasMessageContaining(dir.resolve("config.json").toString());
    }
  }

  @Test
  void copyFilesToCopiesPresentTokenizerFiles() throws Exception {
    TinyCheckpoints.writeTokenizer(tmp.resolve("src"), true);
    Files.writeString(tmp.resolve("src/special_tokens_map.json"), "{}");
    try (Tokenizer t = Tokenizer.load(tmp.resolve("src"))) {
      t.copyFilesTo(tmp.resolve("out"));
    }
    assertThat(tmp.resolve("out/tokenizer.json")).hasSameBinaryContentAs(tmp.resolve("src/tokenizer.json"));
    assertThat(tmp.resolve("out/tokenizer_config.json")).exists();
    assertThat(tmp.resolve("out/special_tokens_map.json")).exists();
    assertThat(tmp.resolve("out/chat_template.jinja")).doesNotExist();
  }

  @Test
  void trainMergesIsTheHandComputedSequence() {
    // words: "ab", "Ġab", "Ġab" -> (a,b) x3 first, then (Ġ,ab) x2, then no pair occurs twice
    List<String[]> m = TokenizerWriter.trainMerges(List.of("ab ab ab"), 10);
    assertThat(m).hasSize(2);
    assertThat(m.get(0)).containsExactly("a", "b");
    assertThat(m.get(1)).containsExactly("Ġ", "ab");
    // "xy", "Ġcd" x2, "Ġxy": (x,y), (Ġ,c) and (c,d) all occur twice; ties go to the smallest pair
    // (Ġ is U+0120, after the letters), so (c,d) first, then (x,y) beats (Ġ,cd)
    List<String[]> tie = TokenizerWriter.trainMerges(List.of("xy cd xy cd"), 2);
    assertThat(tie).hasSize(2);
    assertThat(tie.get(0)).containsExactly("c", "d");
    assertThat(tie.get(1)).containsExactly("x", "y");
  }

  @Test
  void trainedMergesLoadInDjlAndRoundTrip() throws Exception {
    List<String> corpus = List.of("the cat sat on the mat", "the dog sat on the log", "naïve café déjà vu");
    List<String[]> merges = TokenizerWriter.trainMerges(corpus, 20);
    assertThat(TokenizerWriter.trainMerges(corpus, 20)).usingRecursiveComparison().isEqualTo(merges);
    TokenizerWriter w = new TokenizerWriter().merges(merges).specialTokens(List.of("<|endoftext|>"))
        .specials(null, "<|endoftext|>", null);
    w.write(tmp);
    try (Tokenizer t = Tokenizer.load(tmp)) {
      assertThat(t.vocabSize()).isEqualTo(w.vocabSize());
      assertThat(t.tokenId("<|endoftext|>")).isEqualTo(w.specialId("<|endoftext|>"));
      int[] ids = t.encode("the cat sat on the log");
      assertThat(ids.length).isLessThan("the cat sat on the log".length());
      assertThat(ids[0]).isEqualTo(t.tokenId("the"));
      for (String s : List.of("the cat sat on the log", "naïve café déjà vu", TEXT)) {
        assertThat(t.decode(t.encode(s))).isEqualTo(s);
      }
    }
  }
}
