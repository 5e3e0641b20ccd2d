// The quantization flags of export and bench dtypes: how q4 blocks and computes, and whether the LM head is quantized.
package dev.rlsr.cli;

import dev.rlsr.export.ExportDtype;
import dev.rlsr.export.StoredWeights;
import dev.rlsr.policy.model.ModelConfig;
import picocli.CommandLine.Option;

final class QuantizeMixin {
  @Option(names = "--quantize-lm-head", description = "With q8 or q4: quantize the LM head too (by default it stays float32, as the embeddings do).")
  boolean quantizeLmHead;

  @Option(names = "--q4-block-size", defaultValue = "" + StoredWeights.DEFAULT_BLOCK_SIZE, description = "Inputs per 4-bit scale in q4: a power of two of at least 16 (default: ${DEFAULT-VALUE}).")
  int q4BlockSize;

  @Option(names = "--q4-accuracy-level", defaultValue = "" + StoredWeights.DEFAULT_Q4_ACCURACY_LEVEL, description = "MatMulNBits' accuracy_level in q4: 0 computes in float32 (the weights dequantized), 4 in int8 (activations quantized per block: 1.5x faster decoding at 0.5B, the same drift) (default: ${DEFAULT-VALUE}).")
  int q4AccuracyLevel;

  /** How a {@code d} file of {@code c} stores its weights under these flags; refusals name the flag. */
  StoredWeights stored(ModelConfig c, ExportDtype d) {
    return StoredWeights.of(c, d, q4BlockSize, quantizeLmHead).q4AccuracyLevel(q4AccuracyLevel);
  }

  /** The flags checked before anything is loaded. */
  void check() {
    StoredWeights.checkBlockSize(q4BlockSize);
    StoredWeights.checkAccuracyLevel(q4AccuracyLevel);
  }
}
