// The seam through which a decoder embedder directory (config.json + safetensors) becomes an ONNX encoder: the graph
// builder lives in rlsr-export and is found with java.util.ServiceLoader.
package dev.rlsr.embedder;

import java.nio.file.Path;

/**
 * Builds the feature-extraction ONNX graph of a decoder language model saved as a sentence-transformers directory
 * (e.g. Qwen3-Embedding: {@code config.json}, {@code model.safetensors}). rlsr-export implements it
 * ({@code dev.rlsr.export.DecoderEncoderGraphs}, through the same decoder layers as the policy export) and registers
 * it in {@code META-INF/services}; any rlsr command has it on its classpath. The embedder module itself knows no model
 * family: which families an embedder may be is decided there, in one place.
 */
public interface DecoderGraphs {
  /**
   * Writes the graph of the model in {@code dir} to {@code modelOnnx}: inputs {@code input_ids},
   * {@code attention_mask}, {@code position_ids} [batch, sequence] int64, output {@code last_hidden_state} [batch,
   * sequence, hidden] (after the final norm, no LM head, no KV cache). Large weights go into a data file beside it.
   *
   * @throws EmbedderException naming the file or key when the directory is not a decoder rlsr can build
   */
  void writeOnnx(Path dir, Path modelOnnx);
}
