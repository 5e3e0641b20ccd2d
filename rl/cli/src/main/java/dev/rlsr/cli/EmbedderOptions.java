// Shared picocli options of the commands that load a sentence embedder (embed, reward, bench embed).
package dev.rlsr.cli;

import dev.rlsr.embedder.SentenceEmbedder;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

final class EmbedderOptions {
  @Mixin EmbedderMixin name;

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
    return SentenceEmbedder.load(name.embedder, threadsOrDefault(), batchSize, name.prompt);
  }
}
