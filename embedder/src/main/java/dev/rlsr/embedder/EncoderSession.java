// The ONNX Runtime side of an encoder: opens the session, checks its inputs and token-level output, and turns one
// padded batch of windows into pooled vectors.
package dev.rlsr.embedder;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One encoder's ONNX session: feeds input_ids, attention_mask and, when the model takes them, token_type_ids (BERT)
 * and position_ids (decoders, as Optimum and rlsr export them: the count of real tokens before each one, cumsum(mask)
 * - 1, and 1 on padding as Hugging Face sets it; so left or right padding give the same positions), and pools the
 * token-level output. {@link #runBatch} may be called from several threads at once.
 */
final class EncoderSession implements AutoCloseable {
  private final String name;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final Pooling pooling;
  private final boolean feedsTokenTypes;
  private final boolean feedsPositions;
  private final String outputName;

  private EncoderSession(EncoderSource source, OrtEnvironment env, OrtSession session, boolean feedsTokenTypes,
      boolean feedsPositions, String outputName) {
    this.name = source.name();
    this.env = env;
    this.session = session;
    this.pooling = source.pooling();
    this.feedsTokenTypes = feedsTokenTypes;
    this.feedsPositions = feedsPositions;
    this.outputName = outputName;
  }

  /**
   * Opens the source's model and checks that it is a sentence encoder rlsr can feed.
   *
   * @throws EmbedderException when the model is broken or its inputs or outputs do not fit (the session is closed)
   */
  static EncoderSession open(OrtEnvironment env, EncoderSource source) {
    OrtSession session = createSession(env, source);
    boolean ok = false;
    try {
      Map<String, NodeInfo> inputs;
      try {
        inputs = session.getInputInfo();
      } catch (OrtException e) {
        throw new EmbedderException("cannot read the inputs of " + source.modelOrigin() + ": " + e.getMessage(), e);
      }
      if (!inputs.containsKey("input_ids") || !inputs.containsKey("attention_mask")) {
        throw new EmbedderException(source.modelOrigin() + " has inputs " + inputs.keySet() + " but an encoder needs "
            + "input_ids and attention_mask (and optionally token_type_ids or position_ids); is it a sentence encoder "
            + "export?");
      }
      for (String input : inputs.keySet()) {
        if (!Set.of("input_ids", "attention_mask", "token_type_ids", "position_ids").contains(input)) {
          throw new EmbedderException(source.modelOrigin() + " has an input '" + input + "' that rlsr cannot feed "
              + "(known: input_ids, attention_mask, token_type_ids, position_ids; a decoder exported with a KV cache "
              + "needs optimum-cli export onnx --task feature-extraction)");
        }
      }
      EncoderSession opened = new EncoderSession(source, env, session, inputs.containsKey("token_type_ids"),
          inputs.containsKey("position_ids"), tokenOutput(session, source.modelOrigin()));
      ok = true;
      return opened;
    } finally {
      if (!ok) {
        closeQuietly(session);
      }
    }
  }

  private static OrtSession createSession(OrtEnvironment env, EncoderSource source) {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      // One thread per ORT call: parallelism comes from running several batches at once (see the class comment of
      // the embedder).
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      // ALL_OPT fuses attention/GELU/LayerNorm for BERT-style graphs; the CPU arena and memory patterns stay at
      // ORT's defaults.
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      // Failures reach the caller as exceptions with ORT's message; keep ORT's own log off stderr.
      options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
      return source.modelBytes() != null
          ? env.createSession(source.modelBytes(), options)
          : env.createSession(source.modelFile().toString(), options);
    } catch (OrtException e) {
      throw new EmbedderException("cannot load the ONNX model " + source.modelOrigin() + ": " + e.getMessage()
          + "; the file is not a complete ONNX model (re-export it, or check that the copy or download finished)", e);
    }
  }

  /** The token-level output: last_hidden_state or token_embeddings by name, else the first output of rank 3. */
  private static String tokenOutput(OrtSession session, String origin) throws EmbedderException {
    try {
      Map<String, NodeInfo> outputs = session.getOutputInfo();
      for (String preferred : List.of("last_hidden_state", "token_embeddings")) {
        if (outputs.containsKey(preferred)) {
          return preferred;
        }
      }
      for (Map.Entry<String, NodeInfo> output : outputs.entrySet()) {
        if (output.getValue().getInfo() instanceof TensorInfo
            && ((TensorInfo) output.getValue().getInfo()).getShape().length == 3) {
          return output.getKey();
        }
      }
      throw new EmbedderException(origin + " has no token-level output [batch, tokens, hidden] (outputs: "
          + outputs.keySet() + "); export the encoder without its pooling head");
    } catch (OrtException e) {
      throw new EmbedderException("cannot read the outputs of " + origin + ": " + e.getMessage(), e);
    }
  }

  /**
   * Runs {@code window}, which holds the tokenizer's largest token id, through the model. A tokenizer larger than the
   * model's embedding table fails here (ONNX Runtime's Gather rejects the id) instead of in the middle of a run.
   * Returns the hidden size.
   */
  int probe(Window window, EncoderSource source, long maxTokenId) {
    try {
      return runBatch(List.of(window), 0, 1, new float[1][]);
    } catch (OrtException | RuntimeException e) {
      throw new EmbedderException("the tokenizer " + source.tokenizerOrigin() + " does not match the encoder "
          + source.modelOrigin() + ": its largest token id " + maxTokenId + " fails in the model (" + e.getMessage()
          + "); use the tokenizer.json exported with this model", e);
    }
  }

  /**
   * Encodes windows {@code [start, end)} in one padded batch and stores their pooled vectors in {@code pooled}.
   * Returns the hidden size.
   */
  int runBatch(List<Window> windows, int start, int end, float[][] pooled) throws OrtException {
    int batch = end - start;
    int length = 0;
    for (int i = start; i < end; i++) {
      length = Math.max(length, windows.get(i).ids().length);
    }
    LongBuffer ids = directLongs(batch * length);
    LongBuffer mask = directLongs(batch * length);
    LongBuffer types = feedsTokenTypes ? directLongs(batch * length) : null;
    for (int i = start; i < end; i++) {
      Window w = windows.get(i);
      int row = (i - start) * length;
      ids.position(row);
      ids.put(w.ids());
      mask.position(row);
      for (int p = 0; p < w.ids().length; p++) {
        mask.put(1L); // padding stays 0 (id 0, mask 0, type 0)
      }
      if (types != null) {
        types.position(row);
        types.put(w.typeIds());
      }
    }
    ids.rewind();
    mask.rewind();
    LongBuffer positions = feedsPositions ? positions(mask, batch, length) : null;
    long[] shape = {batch, length};
    try (OnnxTensor idsTensor = OnnxTensor.createTensor(env, ids, shape);
        OnnxTensor maskTensor = OnnxTensor.createTensor(env, mask, shape);
        OnnxTensor typesTensor = types == null ? null : OnnxTensor.createTensor(env, types.rewind(), shape);
        OnnxTensor positionsTensor = positions == null ? null : OnnxTensor.createTensor(env, positions, shape)) {
      Map<String, OnnxTensor> feed = new HashMap<>();
      feed.put("input_ids", idsTensor);
      feed.put("attention_mask", maskTensor);
      if (typesTensor != null) {
        feed.put("token_type_ids", typesTensor);
      }
      if (positionsTensor != null) {
        feed.put("position_ids", positionsTensor);
      }
      try (OrtSession.Result result = session.run(feed, Set.of(outputName))) {
        OnnxTensor hidden = (OnnxTensor) result.get(outputName).orElseThrow();
        long[] outShape = hidden.getInfo().getShape();
        if (outShape.length != 3 || outShape[0] != batch || outShape[1] != length) {
          throw new EmbedderException("encoder " + name + " output " + outputName + " has shape "
              + Arrays.toString(outShape) + ", expected [" + batch + ", " + length + ", hidden]");
        }
        int dim = (int) outShape[2];
        FloatBuffer buffer = hidden.getFloatBuffer();
        float[] values = new float[buffer.remaining()];
        buffer.get(values);
        for (int i = start; i < end; i++) {
          pooled[i] = pooling.pool(values, (i - start) * length * dim, windows.get(i).ids().length, dim);
        }
        return dim;
      }
    }
  }

  /** Hugging Face's position ids of a padded batch: cumsum(mask) - 1 on real tokens, 1 on padding. */
  static LongBuffer positions(LongBuffer mask, int batch, int length) {
    LongBuffer out = directLongs(batch * length);
    for (int b = 0; b < batch; b++) {
      long seen = 0;
      for (int t = 0; t < length; t++) {
        long m = mask.get(b * length + t);
        seen += m;
        out.put(m == 0 ? 1 : seen - 1);
      }
    }
    return out.rewind();
  }

  private static LongBuffer directLongs(int count) {
    return ByteBuffer.allocateDirect(count * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
  }

  /** Closes the session after another failure, whose error is the one to report. */
  void closeQuietly() {
    closeQuietly(session);
  }

  private static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException e) {
      // already failing: the first error is the one to report
    }
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new EmbedderException("cannot close the ONNX session of " + name + ": " + e.getMessage(), e);
    }
  }
}
