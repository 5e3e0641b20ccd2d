// The shared --embedder flag: the sentence encoder of embed, reward and bench embed, and the reward encoder of train
// and eval (GrpoConfig.DEFAULT_EMBEDDER is the same default).
package dev.rlsr.cli;

import dev.rlsr.embedder.SentenceEmbedder;
import picocli.CommandLine.Option;

final class EmbedderMixin {
  @Option(names = "--embedder", paramLabel = "NAME|DIR", defaultValue = SentenceEmbedder.DEFAULT,
      description = "Sentence encoder (train, eval: the reward's): built-in all-minilm-l6-v2 or e5-small-v2, a "
          + "sentence-transformers ONNX export directory (model.onnx or onnx/model.onnx, tokenizer.json, "
          + "1_Pooling/config.json), or a decoder embedder's sentence-transformers directory (Qwen3/Qwen2, e.g. "
          + "Qwen3-Embedding: config.json, model.safetensors, last-token pooling), which rlsr builds into ONNX. "
          + "Default: ${DEFAULT-VALUE}.")
  String embedder;

  @Option(names = "--embedder-prompt", paramLabel = "NAME|TEXT",
      description = "Text put before every text the encoder embeds, the completion and the reference alike (so the "
          + "similarity stays symmetric): the name of one of its prompts (a directory's "
          + "config_sentence_transformers.json prompts; e5-small-v2's query or passage), else the text itself. "
          + "Default: the encoder's own (default_prompt_name; query for e5-small-v2; none otherwise).")
  String prompt;

  /** The encoder these flags name, with {@code threads} batches at once. */
  SentenceEmbedder load(int threads) {
    return SentenceEmbedder.load(embedder, threads, SentenceEmbedder.DEFAULT_BATCH_SIZE, prompt);
  }
}
