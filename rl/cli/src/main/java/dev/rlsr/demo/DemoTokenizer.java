// The demo base model's tokenizer: byte-level BPE with merges learned from the demo corpus and dataset,
// <|endoftext|> as its only special token (EOS and padding), no chat template (prompts use the plain template).
package dev.rlsr.demo;

import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.tokenizer.TokenizerWriter;
import java.util.ArrayList;
import java.util.List;

public final class DemoTokenizer {
  /** End of a document or response; also the padding token and, as in GPT-2, the nominal BOS. */
  public static final String EOS = "<|endoftext|>";
  /** Default number of BPE merges: enough to make nearly every word of the demo world a single token. */
  public static final int MERGES = 800;
  /** model_max_length written into tokenizer_config.json. */
  public static final int MODEL_MAX_LENGTH = 256;

  private DemoTokenizer() {}

  /**
   * The texts merges are learned from: the corpus documents and the train examples as SFT shows them
   * ({@link PromptRenderer#PLAIN_TURN} + response), so the template's words are single tokens as well.
   */
  public static List<String> trainingTexts(List<String> corpus, DemoData data) {
    List<String> texts = new ArrayList<>(corpus);
    for (DemoData.Item it : data.train()) {
      texts.add(PromptRenderer.PLAIN_TURN.formatted(it.prompt()) + it.response());
    }
    return texts;
  }

  /** A writer for the tokenizer: learned merges, {@link #EOS} as bos/eos/pad, add_bos_token false. */
  public static TokenizerWriter train(List<String> texts, int merges) {
    return new TokenizerWriter()
        .merges(TokenizerWriter.trainMerges(texts, merges))
        .specialTokens(List.of(EOS))
        .specials(EOS, EOS, EOS)
        .addBosToken(false)
        .modelMaxLength(MODEL_MAX_LENGTH);
  }
}
