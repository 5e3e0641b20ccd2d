// The shared --embedder flag: the sentence encoder of embed, reward and bench embed, and the reward encoder of train
// and eval (GrpoConfig.DEFAULT_EMBEDDER is the same default).
package dev.rlsr.cli;

import dev.rlsr.embedder.SentenceEmbedder;
import picocli.CommandLine.Option;

final class EmbedderMixin {
  @Option(names = "--embedder", paramLabel = "NAME|DIR", defaultValue = SentenceEmbedder.DEFAULT,
      description = "Sentence encoder (train, eval: the reward's): built-in all-minilm-l6-v2 or e5-small-v2, or a "
          + "sentence-transformers ONNX export directory (model.onnx or onnx/model.onnx, tokenizer.json, "
          + "1_Pooling/config.json). Default: ${DEFAULT-VALUE}.")
  String embedder;
}
