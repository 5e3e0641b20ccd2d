// Shared --threads option (TensorFlow / ONNX Runtime intra-op threads).
package dev.rlsr.cli;

import picocli.CommandLine.Option;

public final class ThreadsMixin {
  @Option(names = "--threads", description = "Intra-op threads for TensorFlow and ONNX Runtime (default: ${DEFAULT-VALUE}, the available cores).")
  public int threads = Runtime.getRuntime().availableProcessors();
}
