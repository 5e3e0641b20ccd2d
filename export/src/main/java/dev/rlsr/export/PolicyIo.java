// The input and output names of the policy's ONNX graph, defined once: the exporter declares them, the ONNX Runtime
// code of rlsr (dev.rlsr.export.runtime) feeds and reads them. They are Hugging Face Optimum's / ONNX Runtime
// GenAI's names, so they are part of the published export format: renaming one breaks exported models' consumers.
package dev.rlsr.export;

/**
 * The I/O contract of the policy graph built by {@link OnnxPolicyExporter} (shapes and types are documented there).
 * Tests that check the published format from outside (plain ONNX Runtime) spell the names out on purpose.
 */
public final class PolicyIo {
  private PolicyIo() {}

  /** Input, int64 [batch_size, sequence_length]: the new tokens of this step. */
  public static final String INPUT_IDS = "input_ids";
  /** Input, int64 [batch_size, total_sequence_length]: 1 for real tokens of past and new positions, 0 for padding. */
  public static final String ATTENTION_MASK = "attention_mask";
  /** Input, int64 [batch_size, sequence_length]: position of each new token. */
  public static final String POSITION_IDS = "position_ids";
  /** Output, float32 [batch_size, sequence_length or 1, vocab]. */
  public static final String LOGITS = "logits";

  /** Input of layer {@code layer}, float32 [batch_size, kv_heads, past_sequence_length, head_dim]. */
  public static String pastKey(int layer) {
    return "past_key_values." + layer + ".key";
  }

  /** Input of layer {@code layer}, float32 [batch_size, kv_heads, past_sequence_length, head_dim]. */
  public static String pastValue(int layer) {
    return "past_key_values." + layer + ".value";
  }

  /** Output of layer {@code layer}, float32 [batch_size, kv_heads, total_sequence_length, head_dim]: past ++ new. */
  public static String presentKey(int layer) {
    return "present." + layer + ".key";
  }

  /** Output of layer {@code layer}, float32 [batch_size, kv_heads, total_sequence_length, head_dim]: past ++ new. */
  public static String presentValue(int layer) {
    return "present." + layer + ".value";
  }
}
