// Shared picocli options of the commands that load a sentence embedder (embed, reward, bench embed).
package dev.rlsr.cli;

import dev.rlsr.embedder.SentenceEmbedder;
import picocli.CommandLine.Option;

final class EmbedderOptions {
  @Option(names = "--embedder", paramLabel = "NAME|DIR", defaultValue = SentenceEmbedder.DEFAULT,
      description = "Sentence encoder: built-in all-minilm-l6-v2 or e5-small-v2, or a sentence-transformers ONNX export "
          + "directory (model.onnx or onnx/model.onnx, tokenizer.json, 1_Pooling/config.json). Default: ${DEFAULT-VALUE}.")
  String embedder;

  @Option(names = "--threads", paramLabel = "N",
      description = "Batches encoded at once, one ONNX Runtime thread each. Default: the number of cores.")
  Integer threads;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "" + SentenceEmbedder.DEFAULT_BATCH_SIZE,
      description = "Most sequences per encoder call (texts are sorted by length first). Default: ${DEFAULT-VALUE}.")
  int batchSize;

  int threadsOrDefault() {
    return threads != null ? threads : Runtime.getRuntime().availableProcessors();
  }

  SentenceEmbedder load() {
    return SentenceEmbedder.load(embedder, threadsOrDefault(), batchSize);
  }
}
