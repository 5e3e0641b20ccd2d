// The demo tokenizer: trained merges written in Hugging Face format, loaded by DJL, round-tripping the demo's
// texts with short sequences, <|endoftext|> as EOS and padding, and no chat template (plain prompts).
package dev.rlsr.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoTokenizerTest {
  @TempDir Path tmp;

  @Test
  void trainedTokenizerLoadsInDjlAndRoundTrips() throws Exception {
    DemoData data = DemoData.generate(7, 1200, 100);
    List<String> texts = DemoTokenizer.trainingTexts(DemoCorpus.generate(7, 1500), data);
    var writer = DemoTokenizer.train(texts, 400);
    writer.write(tmp);
    try (Tokenizer tok = Tokenizer.load(tmp)) {
      assertThat(tok.vocabSize()).isEqualTo(writer.vocabSize()).isBetween(256 + 300, 256 + 400 + 1);
      int eos = tok.tokenId(DemoTokenizer.EOS);
      assertThat(eos).isEqualTo(tok.vocabSize() - 1);
      assertThat(tok.eosIds()).containsExactly(eos);
      assertThat(tok.padId()).isEqualTo(eos);
      assertThat(tok.chatTemplate()).isEmpty();
      assertThat(tok.addBosToPrompt()).isFalse();
      assertThat(PromptRenderer.forTokenizer(tok).usesChatTemplate()).isFalse();
      long bytes = 0;
      long tokens = 0;
      for (DemoData.Item it : data.eval()) {
        for (String s : List.of(PromptRenderer.PLAIN_TURN.formatted(it.prompt()), it.response())) {
          int[] ids = tok.encode(s);
          assertThat(tok.decode(ids)).isEqualTo(s);
          tokens += ids.length;
          bytes += s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        }
      }
      // merges make most words single tokens: sequences are about three bytes per token (1 without merges)
      assertThat((double) bytes / tokens).as("bytes per token").isGreaterThan(2.5);
      assertThat(tok.encode("The red fox lives in the forest.")).hasSize(8); // one token per word, and the period
      // text outside the demo world still round-trips through the byte fallback
      String odd = "Zürich — 42°C, naïve façade!";
      assertThat(tok.decode(tok.encode(odd))).isEqualTo(odd);
    }
  }
}
