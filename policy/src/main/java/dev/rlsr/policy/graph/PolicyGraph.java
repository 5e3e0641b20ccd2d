// The policy in one TensorFlow Java graph: weights as variables named by their Hugging Face names, the logits and the
// per-token log-prob head (with entropy) under a scoring temperature. A trainable graph also carries its Training:
// the losses given at build time, gradient accumulation and AdamW over the trainable parameters.
package dev.rlsr.policy.graph;

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
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.PlaceholderWithDefault;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

public final class PolicyGraph implements AutoCloseable {
  /**
   * @param intraOpThreads  TensorFlow intra-op threads (default: available cores)
   * @param interOpThreads  TensorFlow inter-op threads
   * @param trainable       build the losses, gradient accumulators and the optimizer (false for the frozen reference)
   * @param adamW           the optimizer's betas and epsilon
   * @param trainableParams the weights (by HF name, in this order) a step changes; null = every layout tensor
   */
  public record Options(int intraOpThreads, int interOpThreads, boolean trainable, AdamW.Hyper adamW,
      List<String> trainableParams) {
    public static Options training(int threads) {
      return new Options(threads, Math.min(2, threads), true, AdamW.Hyper.DEFAULT, null);
    }

    public static Options inference(int threads) {
      return new Options(threads, Math.min(2, threads), false, AdamW.Hyper.DEFAULT, null);
    }

    /** Trains only these weights; the others keep their loaded values through every step. */
    public Options withTrainableParams(List<String> names) {
      return new Options(intraOpThreads, interOpThreads, trainable, adamW, List.copyOf(names));
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
  private final Operand<TFloat32> logits;
  private final Operand<TFloat32> tokenLogprobs;
  private final Operand<TFloat32> entropy;
  private final PlaceholderWithDefault<TFloat32> invTemperature;
  private final Training training;
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

    inputIds = tf.withName("input_ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
    targets = tf.withName("targets").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
    attentionMask = tf.withName("attention_mask").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));
    positionIds = tf.withName("position_ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, -1)));

    LlamaGraph model = new LlamaGraph(tf, config, reads::get);
    logits = tf.withName("logits").identity(model.logits(inputIds, positionIds, attentionMask)); // [B*T, V]

    // log p(target): log_softmax(logits / temperature) then a gather at flat index row * V + target.
    // GRPO scores tokens under the same temperature they were sampled at (as TRL does); 1 everywhere else.
    invTemperature = tf.withName("inverse_temperature").placeholderWithDefault(tf.constant(1f), Shape.scalar());
    Operand<TFloat32> logp = tf.nn.logSoftmax(tf.math.mul(logits, invTemperature)); // [B*T, V]
    Operand<TInt32> flatTargets = tf.reshape(targets, tf.constant(new int[] {-1}));
    Operand<TInt32> rows = tf.range(tf.constant(0), tf.size(flatTargets), tf.constant(1));
    Operand<TInt32> flatIndex = tf.math.add(tf.math.mul(rows, tf.constant(config.vocabSize())), flatTargets);
    Operand<TFloat32> picked = tf.gather(tf.reshape(logp, tf.constant(new int[] {-1})), flatIndex, tf.constant(0));
    tokenLogprobs = tf.withName("token_logprobs").reshape(picked, tf.shape(targets)); // [B, T]
    entropy = tf.withName("entropy").reshape(
        tf.math.neg(tf.reduceSum(tf.math.mul(tf.math.exp(logp), logp), tf.constant(-1))), tf.shape(targets));

    training = options.trainable()
        ? new Training(this, tf, graph, parameters(options.trainableParams()), options.adamW(), losses, this::session)
        : null;
    ConfigProto cp = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(options.intraOpThreads())
        .setInterOpParallelismThreads(options.interOpThreads())
        .build();
    session = new Session(graph, cp);
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

  /** The trainable parameters by name (null: all weights, in layout order). */
  private List<Parameter> parameters(List<String> names) {
    List<Parameter> out = new ArrayList<>();
    for (String name : names == null ? List.copyOf(vars.keySet()) : names) {
      if (!vars.containsKey(name)) {
        throw new IllegalArgumentException("no weight " + name + " to train in this " + config.modelType() + " model");
      }
      out.add(new Parameter(name, vars.get(name), reads.get(name)));
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
   * The variables as a source in layout order, fetched a group at a time ({@link TfStreams#fetching}): checkpoint
   * saves and the rollout engine's weight sync stream the weights through this. Take a new view for each pass; a view
   * sees the variables as they were when each group was fetched.
   */
  public TensorSource variables() {
    return TfStreams.fetching(this::session, reads);
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

  /** Feeds what {@link #tokenLogprobs} and {@link #entropy} read: the tokens and the scoring temperature. */
  void feedScoring(Feeds.Run run, TokenBatch b) {
    run.ints(inputIds, b.ids()).ints(targets, b.targets()).ints(attentionMask, b.attention())
        .ints(positionIds, b.positions()).scalar(invTemperature, 1f / temperature);
  }

  /** Logits [B*T*V] flattened row-major ([b][t][v]). */
  public float[] logits(int[][] ids, int[][] attention, int[][] positions) {
    try (Feeds.Run run = new Feeds.Run(session)) {
      run.ints(inputIds, ids).ints(attentionMask, attention).ints(positionIds, positions).fetch(logits);
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
    int b = batch.rows();
    int t = batch.ids()[0].length;
    try (Feeds.Run run = new Feeds.Run(session)) {
      feedScoring(run, batch);
      run.fetch(tokenLogprobs);
      if (withEntropy) {
        run.fetch(entropy);
      }
      try (Result r = run.run()) {
        return new TokenOutputs(Feeds.read2d(r.get(0), b, t), withEntropy ? Feeds.read2d(r.get(1), b, t) : null);
      }
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
