// The dtypes an ONNX export can store its weights in, each under the file name transformers.js and Optimum give it
// (transformers.js `dtype: "fp32" | "fp16" | "q8" | "q4"` picks model.onnx, model_fp16.onnx, model_quantized.onnx, model_q4.onnx).
package dev.rlsr.export;

import dev.rlsr.policy.util.FlagChoices;

public enum ExportDtype {
  /** The weights as trained. */
  FP32("model.onnx"),
  /** Every matrix (embeddings, linear layers, LM head) stored as float16 and cast to float32 in the graph. */
  FP16("model_fp16.onnx"),
  /**
   * Linear layers as int8 weights, symmetric per output channel, with activations quantized per tensor at run time:
   * ONNX Runtime's {@code DynamicQuantizeMatMul} (what {@code quantize_dynamic} produces once fused).
   */
  Q8("model_quantized.onnx"),
  /** Linear layers as 4-bit block-wise weights, symmetric, as ONNX Runtime's {@code MatMulNBits} takes them. */
  Q4("model_q4.onnx");

  private final String fileName;

  ExportDtype(String fileName) {
    this.fileName = fileName;
  }

  /** The ONNX file of this dtype in an export directory. */
  public String fileName() {
    return fileName;
  }

  /** Its external data file, for a model whose weights do not fit in the .onnx file itself. */
  public String dataFileName() {
    return fileName + "_data";
  }

  /** Whether linear layers are quantized (int8 or 4-bit) rather than stored as floats. */
  public boolean quantized() {
    return this == Q8 || this == Q4;
  }

  @Override
  public String toString() {
    return FlagChoices.name(this);
  }
}
