// The policy in one TensorFlow Java graph: weights as variables named by their Hugging Face names, the logits and the
// per-token log-prob head (with entropy) under a scoring temperature, chunked over rows so no [tokens, vocab] tensor
// is kept (see ChunkedHead). A trainable graph also carries its Training: the losses given at build time, gradient
// accumulation (through the head's hand-written backward) and AdamW over the trainable parameters.
package dev.rlsr.policy.graph;

import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.LoraInit;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.optim.AdamW;
import dev.rlsr.policy.optim.Parameter;
import dev.rlsr.policy.optim.TfStreams;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.PlaceholderWithDefault;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

public final class PolicyGraph implements AutoCloseable {
  /**
   * @param intraOpThreads  TensorFlow intra-op threads (default: available cores)
   * @param interOpThreads  TensorFlow inter-op threads
   * @param trainable       build the losses, gradient accumulators and the optimizer (false for the frozen reference)
   * @param adamW           the optimizer's betas and epsilon
   * @param trainableParams the weights (by HF name, in this order) a step changes; null = every layout tensor (with an
   *                        adapter: every adapter tensor; naming others is refused)
   * @param head            how the log-prob head is computed (default {@link Head#CHUNKED})
   * @param lora            a LoRA adapter on the frozen base weights (null: no adapter, every weight trainable)
   * @param loraSeed        seeds the adapter's initial A and its dropout masks
   */
  public record Options(int intraOpThreads, int interOpThreads, boolean trainable, AdamW.Hyper adamW,
      List<String> trainableParams, Head head, LoraConfig lora, long loraSeed) {
    public static Options training(int threads) {
      return new Options(threads, Math.min(2, threads), true, AdamW.Hyper.DEFAULT, null, Head.CHUNKED, null, 0);
    }

    public static Options inference(int threads) {
      return new Options(threads, Math.min(2, threads), false, AdamW.Hyper.DEFAULT, null, Head.CHUNKED, null, 0);
    }

    /** Trains only these weights; the others keep their loaded values through every step. */
    public Options withTrainableParams(List<String> names) {
      return new Options(intraOpThreads, interOpThreads, trainable, adamW, List.copyOf(names), head, lora, loraSeed);
    }

    /** The same options with another head. */
    public Options withHead(Head h) {
      return new Options(intraOpThreads, interOpThreads, trainable, adamW, trainableParams, h, lora, loraSeed);
    }

    /** The same options with a LoRA adapter ({@code null}: none), its A drawn and its dropout seeded from {@code seed}. */
    public Options withLora(LoraConfig l, long seed) {
      return new Options(intraOpThreads, interOpThreads, trainable, adamW, trainableParams, head, l, seed);
    }
  }

  /**
   * How token log-probs, entropy and their gradient are computed.
   *
   * @param reference    true: the unchunked reference formulation, log_softmax of the full [tokens, V] logits, a
   *                     gather, and plain autodiff (which keeps several [tokens, V] tensors per micro-batch: at
   *                     tokens 2400, V 151,936 each is 1.46 GB). Kept to test the chunked head against.
   * @param rowsPerChunk chunked head only: rows per chunk, 0 = as many as keep one chunk's [rows, V] float32 logits
   *                     within 128 MiB (ChunkedHead.DEFAULT_CHUNK_BYTES)
   */
  public record Head(boolean reference, int rowsPerChunk) {
    /** The chunked head with the default chunk size. */
    public static final Head CHUNKED = new Head(false, 0);
    /** The unchunked reference head with autodiff. */
    public static final Head REFERENCE = new Head(true, 0);

    public Head {
      if (rowsPerChunk < 0) {
        throw new IllegalArgumentException("rows per chunk must be 0 (default) or positive, got " + rowsPerChunk);
      }
    }

    /** The chunked head with {@code rows} rows per chunk. */
    public static Head chunked(int rows) {
      if (rows < 1) {
        throw new IllegalArgumentException("rows per chunk must be positive, got " + rows);
      }
      return new Head(false, rows);
    }
  }

  /** Per-token outputs of a forward pass, [B][T]. */
  public record TokenOutputs(float[][] logprobs, float[][] entropy) {}

  private final ModelConfig config;
  private final Graph graph = new Graph();
  private final Session session;
  private final Map<String, Variable<TFloat32>> vars = new LinkedHashMap<>();
  private final Map<String, Operand<TFloat32>> reads = new LinkedHashMap<>();
  private final Map<String, Placeholder<TFloat32>> loadFeeds = new LinkedHashMap<>();
  private final List<Op> loadOps = new ArrayList<>();
  private final Placeholder<TInt32> inputIds;
  private final Placeholder<TInt32> targets;
  private final Placeholder<TInt32> attentionMask;
  private final Placeholder<TInt32> positionIds;
  private final Operand<TFloat32> hidden;
  private final String headWeight;
  private final ChunkedHead head; // null with the reference head
  private final Operand<TFloat32> logits;
  private final Operand<TFloat32> tokenLogprobs;
  private final Operand<TFloat32> entropy;
  private final PlaceholderWithDefault<TFloat32> invTemperature;
  private final Training training;
  private final LoraConfig lora; // null: no adapter
  private final long loraSeed;
  private final Map<String, Variable<TFloat32>> adapterVars = new LinkedHashMap<>();
  private final Map<String, Operand<TFloat32>> adapterReads = new LinkedHashMap<>();
  private final Map<String, Placeholder<TFloat32>> adapterFeeds = new LinkedHashMap<>();
  private final List<Op> adapterLoadOps = new ArrayList<>();
  private final PlaceholderWithDefault<TFloat32> loraScale; // alpha / r by default; 0 turns the adapter off
  private final PlaceholderWithDefault<TFloat32> loraDropout; // the dropout rate, 0 unless fed by a training pass
  private final PlaceholderWithDefault<TInt64> loraDropoutSeed; // [2], the stateless dropout masks' seed
  private float temperature = 1f;

  private PolicyGraph(ModelConfig config, Options options, List<? extends LossSpec<?>> losses) {
    this.config = config;
    Ops tf = Ops.create(graph);

    // Weights: one variable per HF tensor, read through identity (see shared notes: SquareGrad on raw variables)
    for (var e : ModelWeights.layout(config).entrySet()) {
      String name = e.getKey();
      Shape shape = Shape.of(e.getValue());
      Variable<TFloat32> var = tf.withName(name).variable(shape, TFloat32.class);
      vars.put(name, var);
      reads.put(name, tf.withName(name + "__read").identity(var));
      Placeholder<TFloat32> feed = tf.withName(name + "__load").placeholder(TFloat32.class, Placeholder.shape(shape));
      loadFeeds.put(name, feed);
      loadOps.add(tf.assign(var, feed));
    }

    // A LoRA adapter: A [r, in] and B [out, r] per adapted layer, variables like the weights (which it leaves frozen)
    lora = options.lora();
    loraSeed = options.loraSeed();
    LlamaGraph.Adapter adapterTerm = (x, prefix) -> null;
    if (lora != null) {
      for (var e : lora.layout(config).entrySet()) {
        String name = e.getKey();
        Shape shape = Shape.of(e.getValue());
        Variable<TFloat32> var = tf.withName(name).variable(shape, TFloat32.class);
        adapterVars.put(name, var);
        adapterReads.put(name, tf.withName(name + "__read").identity(var));
        Placeholder<TFloat32> feed = tf.withName(name + "__load").placeholder(TFloat32.class, Placeholder.shape(shape));
        adapterFeeds.put(name, feed);
        adapterLoadOps.add(tf.assign(var, feed));
      }
      loraScale = tf.withName("lora_scale").placeholderWithDefault(tf.constant((float) lora.scale()), Shape.scalar());
      if (lora.dropout() > 0) {
        loraDropout = tf.withName("lora_dropout").placeholderWithDefault(tf.constant(0f), Shape.scalar());
        loraDropoutSeed = tf.withName("lora_dropout_seed").placeholderWithDefault(tf.constant(new long[] {0, 0}),
            Shape.of(2));
      } else {
        loraDropout = null;
        loraDropoutSeed = null;
      }
      List<String> adapted = new ArrayList<>(lora.adaptedLayers(config).keySet());
      adapterTerm = (x, prefix) -> {
        int k = adapted.indexOf(prefix);
        return k < 0 ? null : adapterDelta(tf, x, prefix, k);
      };
    } else {
      loraScale = null;
      loraDropout = null;
      loraDropoutSeed = null;
    }

    inputIds = tf.withName("input_ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
    targets = tf.withName("targets").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
    attentionMask = tf.withName("attention_mask").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
    positionIds = tf.withName("position_ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));

    LlamaGraph model = new LlamaGraph(tf, config, reads::get, adapterTerm);
    hidden = model.hidden(inputIds, positionIds, attentionMask); // [B*T, D]
    headWeight = LlamaGraph.headWeightName(config);
    Operand<TFloat32> w = reads.get(headWeight); // [V, D]
    // full logits: only computed when fetched (logits(...), generation), never by scoring or training
    logits = tf.withName("logits").identity(tf.linalg.matMul(hidden, w, MatMul.transposeB(true))); // [B*T, V]

    // log p(target) under a scoring temperature: GRPO scores tokens at the temperature they were sampled at (as TRL
    // does); 1 everywhere else. Entropy is a metric: it carries no gradient (a loss using it gets none through it).
    invTemperature = tf.withName("inverse_temperature").placeholderWithDefault(tf.constant(1f), Shape.scalar());
    Operand<TInt32> flatTargets = tf.reshape(targets, tf.constant(new int[] {-1}));
    Head headOption = options.head();
    if (headOption.reference()) {
      // log_softmax(logits / temperature) then a gather at flat index row * V + target; autodiff through it all
      head = null;
      Operand<TFloat32> logp = tf.nn.logSoftmax(tf.math.mul(logits, invTemperature)); // [B*T, V]
      Operand<TInt32> rows = tf.range(tf.constant(0), tf.size(flatTargets), tf.constant(1));
      Operand<TInt32> flatIndex = tf.math.add(tf.math.mul(rows, tf.constant(config.vocabSize())), flatTargets);
      Operand<TFloat32> picked = tf.gather(tf.reshape(logp, tf.constant(new int[] {-1})), flatIndex, tf.constant(0));
      tokenLogprobs = tf.withName("token_logprobs").reshape(picked, tf.shape(targets)); // [B, T]
      entropy = tf.withName("entropy").stopGradient(tf.reshape(
          tf.math.neg(tf.reduceSum(tf.math.mul(tf.math.exp(logp), logp), tf.constant(-1))), tf.shape(targets)));
    } else {
      int rowsPerChunk = headOption.rowsPerChunk() > 0 ? headOption.rowsPerChunk()
          : ChunkedHead.rowsWithin(ChunkedHead.DEFAULT_CHUNK_BYTES, config.vocabSize());
      head = new ChunkedHead(graph, tf, hidden, w, flatTargets, invTemperature, config.vocabSize(),
          config.hiddenSize(), rowsPerChunk);
      tokenLogprobs = tf.withName("token_logprobs").reshape(head.tokenLogprobs(), tf.shape(targets)); // [B, T]
      entropy = tf.withName("entropy").reshape(head.entropy(), tf.shape(targets));
    }

    training = options.trainable()
        ? new Training(this, tf, graph, parameters(options.trainableParams()), options.adamW(), losses, this::session)
        : null;
    ConfigProto cp = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(options.intraOpThreads())
        .setInterOpParallelismThreads(options.interOpThreads())
        .build();
    session = new Session(graph, cp);
    if (lora != null) {
      try {
        setAdapter(new LoraInit(config, lora, loraSeed));
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }
  }

  /**
   * scale · B (A dropout(x)) of adapted layer number {@code k}: dropout (rate fed by training passes, 0 otherwise)
   * from a stateless uniform draw seeded by the fed seed and k, as PEFT's {@code lora_dropout} on the adapter path only.
   */
  private Operand<TFloat32> adapterDelta(Ops tf, Operand<TFloat32> x, String prefix, int k) {
    Operand<TFloat32> in = x;
    if (loraDropout != null) {
      Operand<TFloat32> keep = tf.math.sub(tf.constant(1f), loraDropout);
      Operand<TInt64> seed = tf.math.add(loraDropoutSeed, tf.constant(new long[] {0, k}));
      Operand<TFloat32> u = tf.random.statelessRandomUniform(tf.shape(x), seed, TFloat32.class);
      Operand<TFloat32> mask = tf.math.floor(tf.math.add(u, keep)); // 1 with probability keep
      in = tf.math.div(tf.math.mul(x, mask), keep);
    }
    Operand<TFloat32> ax = tf.linalg.matMul(in, adapterReads.get(LoraConfig.aName(prefix)), MatMul.transposeB(true));
    Operand<TFloat32> bax = tf.linalg.matMul(ax, adapterReads.get(LoraConfig.bName(prefix)), MatMul.transposeB(true));
    return tf.math.mul(bax, loraScale);
  }

  /** Builds the graph and session; weights are loaded with {@link #setWeights}. */
  public static PolicyGraph create(ModelConfig config, Options options, List<? extends LossSpec<?>> losses) {
    return new PolicyGraph(config, options, losses);
  }

  /** A graph with the given weights loaded and, when trainable, fresh optimizer state. */
  public static PolicyGraph create(ModelWeights weights, Options options, List<? extends LossSpec<?>> losses) {
    return create(weights.config(), weights, options, losses);
  }

  /**
   * A graph of {@code config} with the weights of {@code weights} loaded tensor by tensor ({@link #setWeights}) and,
   * when trainable, fresh optimizer state. The graph is closed again when loading fails.
   */
  public static PolicyGraph create(ModelConfig config, TensorSource weights, Options options,
      List<? extends LossSpec<?>> losses) {
    PolicyGraph g = new PolicyGraph(config, options, losses);
    try {
      g.setWeights(weights);
      if (options.trainable()) {
        g.training().resetOptimizer();
      }
      return g;
    } catch (RuntimeException e) {
      g.close();
      throw e;
    }
  }

  /** The trainable parameters by name (null: all weights in layout order, or with an adapter all its tensors). */
  private List<Parameter> parameters(List<String> names) {
    Map<String, Variable<TFloat32>> pool = lora != null ? adapterVars : vars;
    Map<String, Operand<TFloat32>> poolReads = lora != null ? adapterReads : reads;
    List<Parameter> out = new ArrayList<>();
    for (String name : names == null ? List.copyOf(pool.keySet()) : names) {
      if (!pool.containsKey(name)) {
        throw new IllegalArgumentException("no " + (lora != null ? "adapter tensor " : "weight ") + name
            + " to train in this " + config.modelType() + " model" + (lora != null ? " (its base weights are frozen)" : ""));
      }
      out.add(new Parameter(name, pool.get(name), poolReads.get(name)));
    }
    return out;
  }

  private Session session() {
    return session;
  }

  public ModelConfig config() {
    return config;
  }

  /** The losses, gradient accumulators and optimizer of a trainable graph. */
  public Training training() {
    if (training == null) {
      throw new IllegalStateException("an inference graph has no training (built with Options.inference)");
    }
    return training;
  }

  /** Temperature under which {@link #forward} and the losses score tokens (default 1). */
  public void setTemperature(float t) {
    if (!(t > 0)) {
      throw new IllegalArgumentException("temperature must be positive, got " + t);
    }
    temperature = t;
  }

  // ---------------------------------------------------------------- weights

  /**
   * Loads weights (by HF name) into the variables a group of tensors per session call ({@link TfStreams#assignAll}:
   * each written from {@code w} straight into a TensorFlow tensor), so no more than one group (up to
   * {@link TfStreams#GROUP_BYTES}, or one larger tensor) is outside the graph. Every layout tensor must be in {@code w}
   * with its shape (checked before anything is assigned).
   */
  public void setWeights(TensorSource w) {
    LinkedHashMap<String, long[]> have = w.shapes();
    vars.forEach((name, v) -> TfStreams.requireShape(have, name, v.shape().asArray()));
    LinkedHashMap<String, TfStreams.Assignment> assignments = new LinkedHashMap<>();
    int i = 0;
    for (String name : vars.keySet()) { // loadOps were added in this order
      assignments.put(name, new TfStreams.Assignment(vars.get(name).shape().asArray(), loadFeeds.get(name),
          loadOps.get(i++)));
    }
    TfStreams.assignAll(session, w, assignments);
  }

  /**
   * The model weights (with an adapter: the frozen base, without it) as a source in layout order, fetched a group at a time ({@link TfStreams#fetching}): checkpoint
   * saves and the rollout engine's weight sync stream the weights through this. Take a new view for each pass; a view
   * sees the variables as they were when each group was fetched.
   */
  public TensorSource variables() {
    return TfStreams.fetching(this::session, reads);
  }

  /** The LoRA adapter this graph was built with; null when it has none. */
  public LoraConfig lora() {
    return lora;
  }

  /**
   * The adapter's tensors (rlsr names, {@link LoraConfig#layout} order) as a source fetched a group at a time, like
   * {@link #variables}: a LoRA run's checkpoints save these, and the rollout sync merges them into the base.
   */
  public TensorSource adapter() {
    requireAdapter();
    return TfStreams.fetching(this::session, adapterReads);
  }

  /** Loads the adapter's tensors (every one of {@link LoraConfig#layout}, with its shape; checked first). */
  public void setAdapter(TensorSource a) {
    requireAdapter();
    LinkedHashMap<String, long[]> have = a.shapes();
    adapterVars.forEach((name, v) -> TfStreams.requireShape(have, name, v.shape().asArray()));
    LinkedHashMap<String, TfStreams.Assignment> assignments = new LinkedHashMap<>();
    int i = 0;
    for (String name : adapterVars.keySet()) {
      assignments.put(name, new TfStreams.Assignment(adapterVars.get(name).shape().asArray(), adapterFeeds.get(name),
          adapterLoadOps.get(i++)));
    }
    TfStreams.assignAll(session, a, assignments);
  }

  private void requireAdapter() {
    if (lora == null) {
      throw new IllegalStateException("this graph has no LoRA adapter (built without Options.withLora)");
    }
  }

  /** Reads all weights into memory: tests and small models (the trainers stream through {@link #variables}). */
  public ModelWeights getWeights() {
    return ModelWeights.read(config, variables());
  }

  // ---------------------------------------------------------------- forward

  Operand<TFloat32> tokenLogprobs() {
    return tokenLogprobs;
  }

  Operand<TFloat32> entropy() {
    return entropy;
  }

  /**
   * The gradient of {@code loss} for each parameter, in order, as parts to be summed (the tied embedding gets two:
   * through the body and through the head). The loss may reach the parameters only through {@link #tokenLogprobs}
   * (entropy carries no gradient). Chunked head: g = dLoss/d log p from autodiff of the loss alone, then the head's
   * hand-written backward (dh, dW) and autodiff of the body from h with dh as its initial gradient. Reference head:
   * plain autodiff of the loss.
   * @param name unique per loss (names the backward loop)
   */
  List<List<Operand<TFloat32>>> gradients(String name, Operand<TFloat32> loss, List<Parameter> params) {
    List<List<Operand<TFloat32>>> out = new ArrayList<>();
    if (head == null) {
      Output<?>[] grads = graph.addGradients(loss.asOutput(), params.stream().map(p -> p.read().asOutput())
          .toArray(Output[]::new));
      for (Output<?> g : grads) {
        out.add(List.of(floats(g)));
      }
      return out;
    }
    Output<?> dLogp = graph.addGradients(loss.asOutput(), new Output<?>[] {tokenLogprobs.asOutput()})[0];
    Ops tf = Ops.create(graph);
    Operand<TFloat32> g = tf.reshape(floats(dLogp), tf.constant(new int[] {-1})); // [N]
    // the untied lm_head is not in the body: its whole gradient is the head's dW
    List<Parameter> body = params.stream()
        .filter(p -> config.tieWordEmbeddings() || !p.name().equals(headWeight)).toList();
    boolean headTrained = params.stream().anyMatch(p -> p.name().equals(headWeight));
    ChunkedHead.Backward back = head.backward(g, !body.isEmpty(), headTrained, "logprob_head_backward_" + name);
    Output<?>[] bodyGrads = body.isEmpty() ? new Output<?>[0] : graph.addGradients(null,
        new Output<?>[] {hidden.asOutput()}, body.stream().map(p -> p.read().asOutput()).toArray(Output[]::new),
        new Output<?>[] {back.dh().asOutput()});
    int k = 0;
    for (Parameter p : params) {
      List<Operand<TFloat32>> parts = new ArrayList<>();
      if (body.contains(p)) {
        parts.add(floats(bodyGrads[k++]));
      }
      if (p.name().equals(headWeight)) {
        parts.add(back.dw());
      }
      out.add(parts);
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Operand<TFloat32> floats(Output<?> o) {
    return (Output<TFloat32>) o;
  }

  /** Feeds what {@link #tokenLogprobs} and {@link #entropy} read: the tokens and the scoring temperature. */
  void feedScoring(Feeds.Run run, TokenBatch b) {
    run.ints(inputIds, b.ids()).ints(targets, b.targets()).ints(attentionMask, b.attention())
        .ints(positionIds, b.positions()).scalar(invTemperature, 1f / temperature);
  }

  /** Logits [B*T*V] flattened row-major ([b][t][v]). */
  public float[] logits(int[][] ids, int[][] attention, int[][] positions) {
    return logits(ids, attention, positions, false);
  }

  /** {@link #logits} of the base alone: the adapter's scale fed as 0 (a graph without adapter ignores the flag). */
  public float[] logits(int[][] ids, int[][] attention, int[][] positions, boolean adapterOff) {
    try (Feeds.Run run = new Feeds.Run(session)) {
      run.ints(inputIds, ids).ints(attentionMask, attention).ints(positionIds, positions).fetch(logits);
      feedAdapterOff(run, adapterOff);
      try (Result r = run.run()) {
        float[] out = new float[Math.toIntExact(r.get(0).shape().size())];
        r.get(0).asRawTensor().data().asFloats().read(out);
        return out;
      }
    }
  }

  /** Per-token log p(targets) and (optionally) entropy, [B][T]. */
  public TokenOutputs forward(int[][] ids, int[][] targetIds, int[][] attention, int[][] positions, boolean withEntropy) {
    return forward(new TokenBatch(ids, targetIds, attention, positions), withEntropy);
  }

  /** Per-token log p(targets) and (optionally) entropy, [B][T]. */
  public TokenOutputs forward(TokenBatch batch, boolean withEntropy) {
    return forward(batch, withEntropy, false);
  }

  /**
   * Per-token log p(targets) and (optionally) entropy, [B][T]; {@code adapterOff}: of the base alone, the adapter's
   * scale fed as 0 (RLSR's reference log-probs with an adapter: the same graph, no second copy of the model).
   */
  public TokenOutputs forward(TokenBatch batch, boolean withEntropy, boolean adapterOff) {
    int b = batch.rows();
    int t = batch.ids()[0].length;
    try (Feeds.Run run = new Feeds.Run(session)) {
      feedScoring(run, batch);
      feedAdapterOff(run, adapterOff);
      run.fetch(tokenLogprobs);
      if (withEntropy) {
        run.fetch(entropy);
      }
      try (Result r = run.run()) {
        return new TokenOutputs(Feeds.read2d(r.get(0), b, t), withEntropy ? Feeds.read2d(r.get(1), b, t) : null);
      }
    }
  }

  private void feedAdapterOff(Feeds.Run run, boolean adapterOff) {
    if (adapterOff && lora != null) {
      run.scalar(loraScale, 0f);
    }
  }

  /**
   * What a training pass feeds besides the tokens: the adapter's dropout rate and the seed of its masks, from the run
   * seed, the optimizer step and the micro-batch within it (so a resumed run draws the masks an uninterrupted one
   * draws).
   */
  void feedTraining(Feeds.Run run, long step, int microBatch) {
    if (loraDropout != null) {
      run.scalar(loraDropout, (float) lora.dropout());
      run.longs(loraDropoutSeed, new long[] {loraSeed, step * 1_000_003L + microBatch});
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
