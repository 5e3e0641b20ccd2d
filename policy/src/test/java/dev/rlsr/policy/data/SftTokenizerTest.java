// SFT token layout (BOS, template, response, EOS), the over-long rule and its counts, and left-truncated prompts.
package dev.rlsr.policy.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.tokenizer.TokenizerWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftTokenizerTest {
  @TempDir Path tmp;

  /** Byte ids of a string (the tiny tokenizer has no merges). */
  private static IntStream bytes(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return IntStream.range(0, b.length).map(i -> b[i] & 0xff);
  }

  private static int[] concat(IntStream... parts) {
    return java.util.Arrays.stream(parts).flatMapToInt(p -> p).toArray();
  }

  @Test
  void llamaFlavourPlainTemplateWithBosAndEos() throws Exception {
    TinyCheckpoints.writeTokenizer(tmp, false);
    try (Tokenizer tok = Tokenizer.load(tmp)) {
      SftTokenizer s = new SftTokenizer(tok, PromptRenderer.forTokenizer(tok), 512);
      TokenizedExample t = s.encode(Example.of("hi", "yo")).orElseThrow();
      String prompt = "### Instruction:\nhi\n\n### Response:\n";
      assertThat(t.ids()).containsExactly(concat(IntStream.of(TinyCheckpoints.BOS), bytes(prompt), bytes("yo"),
          IntStream.of(TinyCheckpoints.EOS)));
      assertThat(t.promptLength()).isEqualTo(1 + prompt.length());
      assertThat(t.responseLength()).isEqualTo(3);
      assertThat(s.stats().kept()).isEqualTo(1);
    }
  }

  @Test
  void qwenFlavourChatTemplateEndsWithImEnd() throws Exception {
    TinyCheckpoints.writeTokenizer(tmp, true);
    try (Tokenizer tok = Tokenizer.load(tmp)) {
      SftTokenizer s = new SftTokenizer(tok, PromptRenderer.forTokenizer(tok), 512);
      TokenizedExample t = s.encode(Example.of("hi", "yo")).orElseThrow();
      assertThat(t.ids()).containsExactly(concat(IntStream.of(TinyCheckpoints.IM_START), bytes("user\nhi"),
          IntStream.of(TinyCheckpoints.IM_END), bytes("\n"), IntStream.of(TinyCheckpoints.IM_START),
          bytes("assistant\n"), bytes("yo"), IntStream.of(TinyCheckpoints.IM_END)));
      assertThat(t.promptLength()).isEqualTo(t.length() - 3);
    }
  }

  @Test
  void bosIsNotDoubledWhenTheTemplateWritesIt() throws Exception {
    new TokenizerWriter().specialTokens(TinyCheckpoints.SPECIAL_TOKENS).specials("<s>", "</s>", null)
        .addBosToken(true).chatTemplate("{{ bos_token }}Q: {{ messages[-1]['content'] }}\nA: ").write(tmp);
    try (Tokenizer tok = Tokenizer.load(tmp)) {
      SftTokenizer s = new SftTokenizer(tok, PromptRenderer.forTokenizer(tok), 512);
      int[] p = s.promptIds(Example.of("x", "y"));
      assertThat(p).containsExactly(concat(IntStream.of(TinyCheckpoints.BOS), bytes("Q: x\nA: ")));
    }
  }

  @Test
  void overLongRuleTruncatesResponsesAndDropsPromptsThatDoNotFit() throws Exception {
    TinyCheckpoints.writeTokenizer(tmp, false);
    try (Tokenizer tok = Tokenizer.load(tmp)) {
      PromptRenderer r = PromptRenderer.forTokenizer(tok);
      int p = new SftTokenizer(tok, r, 512).promptIds(Example.of("hi", "")).length;
      SftTokenizer s = new SftTokenizer(tok, r, p + 3);
      // fits exactly: prompt + "yo" + EOS
      assertThat(s.encode(Example.of("hi", "yo")).orElseThrow().length()).isEqualTo(p + 3);
      // one token too long: response cut to 3 tokens, no EOS
      TokenizedExample cut = s.encode(Example.of("hi", "yoyo")).orElseThrow();
      assertThat(cut.length()).isEqualTo(p + 3);
      assertThat(cut.promptLength()).isEqualTo(p);
      assertThat(java.util.Arrays.copyOfRange(cut.ids(), p, p + 3)).containsExactly('y', 'o', 'y');
      // prompt of exactly p+3 tokens: no room for a response token
      assertThat(s.encode(Example.of("hi!!!", "a"))).isEmpty();
      // prompt with room for just one response token
      TokenizedExample one = s.encode(Example.of("hi!!", "abc")).orElseThrow();
      assertThat(one.responseLength()).isEqualTo(1);
      assertThat(one.ids()[one.length() - 1]).isEqualTo('a');
      // empty response: prompt + EOS
      assertThat(s.encode(Example.of("hi", "")).orElseThrow().ids()).endsWith(TinyCheckpoints.EOS);
      assertThat(s.stats().kept()).isEqualTo(2);
      assertThat(s.stats().truncated()).isEqualTo(2);
      assertThat(s.stats().dropped()).isEqualTo(1);
      assertThat(s.stats().toString()).isEqualTo("kept 2, truncated 2, dropped 1");
      assertThat(s.encodeAll(List.of(Example.of("hi", "yo"), Example.of("hi!!!", "a")))).hasSize(1);
    }
  }

  @Test
  void rolloutPromptsKeepTheirLastTokens() throws Exception {
    TinyCheckpoints.writeTokenizer(tmp, false);
    try (Tokenizer tok = Tokenizer.load(tmp)) {
      SftTokenizer s = new SftTokenizer(tok, PromptRenderer.forTokenizer(tok), 512);
      int[] full = s.encodePrompt(Example.of("hi", "yo"), 512);
      assertThat(full[0]).isEqualTo(TinyCheckpoints.BOS);
      assertThat(s.stats().promptsTruncated()).isZero();
      assertThat(s.encodePrompt(Example.of("hi", "yo"), full.length)).containsExactly(full);
      assertThat(s.encodePrompt(Example.of("hi", "yo"), 5)).containsExactly(concat(bytes("nse:\n")));
      assertThat(s.stats().promptsTruncated()).isEqualTo(1);
    }
  }
}
