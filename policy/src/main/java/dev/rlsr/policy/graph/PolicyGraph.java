// The trainable policy in one TensorFlow Java graph: weights as variables named by their Hugging Face names,
// per-token log-probs, the losses given at build time with gradient accumulators, and a decoupled-weight-decay
// AdamW step with global-norm clipping whose learning rate is fed per step.
package dev.rlsr.policy.graph;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.model.ModelWeights;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

public final class PolicyGraph implements AutoCloseable {
  /**
   * @param intraOpThreads TensorFlow intra-op threads (default: available cores)
   * @param interOpThreads TensorFlow inter-op threads
   * @param trainable      build gradients, accumulators and the optimizer (false for the frozen reference model)
   * @param beta1          AdamW first-moment decay (default 0.9)
   * @param beta2          AdamW second-moment decay (default 0.999)
   * @param epsilon        AdamW epsilon added to sqrt(v-hat) (default 1e-8, as torch.optim.AdamW)
   */
  public record Options(int intraOpThreads, int interOpThreads, boolean trainable, float beta1, float beta2,
      float epsilon) {
    public static Options training(int threads) {
      return new Options(threads, Math.min(2, threads), true, 0.9f, 0.999f, 1e-8f);
    }

    public static Options inference(int threads) {
      return new Options(threads, Math.min(2, threads), false, 0.9f, 0.999f, 1e-8f);
    }
  }

  /** Per-token outputs of a forward pass, [B][T]. */
  public record TokenOutputs(float[][] logprobs, float[][] entropy) {}

  /** Result of one optimizer step: the global gradient norm before clipping, and whether it was applied. */
  public record StepResult(float gradNorm, boolean applied) {}

  /** AdamW state: the step count and the first/second moments by weight name. */
  public record OptimizerState(long step, Map<String, FloatTensor> m, Map<String, FloatTensor> v) {}

  private final ModelConfig config;
  private final Options options;
  private final Graph graph = new Graph();
  private final Session session;
  private final LinkedHashMap<String, long[]> layout;
  private final Map<String, Variable<TFloat32>> vars = new LinkedHashMap<>();
  private final Map<String, Operand<TFloat32>> reads = new LinkedHashMap<>();
  private final Map<String, Placeholder<TFloat32>> loadFeeds = new LinkedHashMap<>();
  private final List<Op> loadOps = new ArrayList<>();
  private final Map<String, Variable<TFloat32>> moments1 = new LinkedHashMap<>();
  private final Map<String, Variable<TFloat32>> moments2 = new LinkedHashMap<>();
  private final Map<String, Placeholder<TFloat32>> m1Feeds = new LinkedHashMap<>();
  private final Map<String, Placeholder<TFloat32>> m2Feeds = new LinkedHashMap<>();
  private final List<Op> momentLoadOps = new ArrayList<>();
  private final Map<String, Operand<TFloat32>> lossOps = new HashMap<>();
  private final Map<String, Map<String, Operand<TFloat32>>> lossMetrics = new HashMap<>();
  private final Map<String, Op> accumulateOps = new HashMap<>();
  private final Map<String, Placeholder<TFloat32>> lossPlaceholders = new HashMap<>();
  private final Placeholder<TInt32> inputIds;
  private final Placeholder<TInt32> targets;
  private final Placeholder<TInt32> attentionMask;
  private final Placeholder<TInt32> positionIds;
  private final Operand<TFloat32> logits;
  private final Operand<TFloat32> tokenLogprobs;
  private final Operand<TFloat32> entropy;
  private final org.tensorflow.op.core.PlaceholderWithDefault<TFloat32> invTemperature;
  private float temperature = 1f;
  private final Map<String, Variable<TFloat32>> accumulators = new LinkedHashMap<>();
  private Op zeroAccumulators;
  private Op zeroMoments;
  private Op applyOp;
  private Operand<TFloat32> gradNorm;
  private Placeholder<TFloat32> lrFeed;
  private Placeholder<TFloat32> wdFeed;
  private Placeholder<TFloat32> maxNormFeed;
  private Placeholder<TFloat32> bc1Feed;
  private Placeholder<TFloat32> bc2Feed;
  private long step;
  private boolean pendingGradients;

  private PolicyGraph(ModelConfig config, Options options, List<LossSpec> losses) {
    this.config = config;
    this.options = options;
    this.layout = ModelWeights.layout(config);
    Ops tf = Ops.create(graph);

    // Weights: one variable per HF tensor, read through identity (see shared notes: SquareGrad on raw variables)
    for (var e : layout.entrySet()) {
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

    if (options.trainable()) {
      buildTraining(tf, losses);
    }
    ConfigProto cp = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(options.intraOpThreads())
        .setInterOpParallelismThreads(options.interOpThreads())
        .build();
    session = new Session(graph, cp);
  }

  /** Builds the graph and session; weights are loaded with {@link #setWeights}. */
  public static PolicyGraph create(ModelConfig config, Options options, List<LossSpec> losses) {
    return new PolicyGraph(config, options, losses);
  }

  /** A trainable graph with the given weights loaded and fresh optimizer state. */
  public static PolicyGraph create(ModelWeights weights, Options options, List<LossSpec> losses) {
    PolicyGraph g = new PolicyGraph(weights.config(), options, losses);
    g.setWeights(weights);
    if (options.trainable()) {
      g.resetOptimizer();
    }
    return g;
  }

  private void buildTraining(Ops tf, List<LossSpec> losses) {
    List<Op> zeroAcc = new ArrayList<>();
    List<Op> zeroMom = new ArrayList<>();
    Map<String, Variable<TFloat32>> acc = accumulators;
    for (var e : layout.entrySet()) {
      String name = e.getKey();
      Shape shape = Shape.of(e.getValue());
      Operand<TFloat32> zeros = tf.fill(tf.constant(toInts(e.getValue())), tf.constant(0f));
      Variable<TFloat32> a = tf.withName(name + "__grad_acc").variable(shape, TFloat32.class);
      Variable<TFloat32> m = tf.withName(name + "__adam_m").variable(shape, TFloat32.class);
      Variable<TFloat32> v = tf.withName(name + "__adam_v").variable(shape, TFloat32.class);
      acc.put(name, a);
      moments1.put(name, m);
      moments2.put(name, v);
      zeroAcc.add(tf.assign(a, zeros));
      zeroMom.add(tf.assign(m, zeros));
      zeroMom.add(tf.assign(v, zeros));
      Placeholder<TFloat32> mf = tf.withName(name + "__adam_m_load").placeholder(TFloat32.class, Placeholder.shape(shape));
      Placeholder<TFloat32> vf = tf.withName(name + "__adam_v_load").placeholder(TFloat32.class, Placeholder.shape(shape));
      m1Feeds.put(name, mf);
      m2Feeds.put(name, vf);
      momentLoadOps.add(tf.assign(m, mf));
      momentLoadOps.add(tf.assign(v, vf));
    }
    zeroAccumulators = tf.withName("zero_grad_acc").withControlDependencies(zeroAcc).noOp();
    zeroMoments = tf.withName("zero_moments").withControlDependencies(zeroMom).noOp();

    Output<?>[] xs = reads.values().stream().map(Operand::asOutput).toArray(Output[]::new);
    for (LossSpec spec : losses) {
      LossSpec.Outputs out = spec.build(new LossContext(tf));
      lossOps.put(spec.name(), out.loss());
      lossMetrics.put(spec.name(), out.metrics());
      Output<?>[] grads = graph.addGradients(out.loss().asOutput(), xs);
      List<Op> adds = new ArrayList<>();
      int i = 0;
      for (String name : layout.keySet()) {
        @SuppressWarnings("unchecked")
        Output<TFloat32> g = (Output<TFloat32>) grads[i++];
        adds.add(tf.assignAdd(acc.get(name), g));
      }
      accumulateOps.put(spec.name(), tf.withName("accumulate_" + spec.name()).withControlDependencies(adds).noOp());
    }

    // AdamW (torch.optim.AdamW semantics) on the accumulated gradient, clipped to a global norm
    lrFeed = tf.withName("adamw_lr").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    wdFeed = tf.withName("adamw_weight_decay").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    maxNormFeed = tf.withName("adamw_max_grad_norm").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    bc1Feed = tf.withName("adamw_bias_correction1").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    bc2Feed = tf.withName("adamw_bias_correction2").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    Operand<TFloat32> sq = null;
    for (Variable<TFloat32> a : acc.values()) {
      Operand<TFloat32> s = tf.reduceSum(tf.math.mul(a, a), tf.constant(allAxes(a.shape().numDimensions())));
      sq = sq == null ? s : tf.math.add(sq, s);
    }
    gradNorm = tf.withName("grad_norm").math.sqrt(sq);
    // clip coefficient: min(1, max_norm / (norm + 1e-6)); max_norm <= 0 disables clipping
    Operand<TFloat32> clip = tf.select(tf.math.greater(maxNormFeed, tf.constant(0f)),
        tf.math.minimum(tf.constant(1f), tf.math.div(maxNormFeed, tf.math.add(gradNorm, tf.constant(1e-6f)))),
        tf.constant(1f));
    float b1 = options.beta1();
    float b2 = options.beta2();
    List<Op> updates = new ArrayList<>();
    for (String name : layout.keySet()) {
      Variable<TFloat32> p = vars.get(name);
      Operand<TFloat32> g = tf.math.mul(acc.get(name), clip);
      Operand<TFloat32> m = tf.assign(moments1.get(name),
          tf.math.add(tf.math.mul(moments1.get(name), tf.constant(b1)), tf.math.mul(g, tf.constant(1 - b1))));
      Operand<TFloat32> v = tf.assign(moments2.get(name),
          tf.math.add(tf.math.mul(moments2.get(name), tf.constant(b2)), tf.math.mul(tf.math.mul(g, g), tf.constant(1 - b2))));
      Operand<TFloat32> mHat = tf.math.div(m, bc1Feed);
      Operand<TFloat32> vHat = tf.math.div(v, bc2Feed);
      Operand<TFloat32> adam = tf.math.div(mHat, tf.math.add(tf.math.sqrt(vHat), tf.constant(options.epsilon())));
      Operand<TFloat32> delta = ModelWeights.isNoDecay(name)
          ? tf.math.mul(adam, lrFeed)
          : tf.math.mul(tf.math.add(adam, tf.math.mul(tf.identity(p), wdFeed)), lrFeed);
      updates.add(tf.assignSub(p, delta));
    }
    applyOp = tf.withName("adamw_apply").withControlDependencies(updates).noOp();
  }

  private final class LossContext implements LossSpec.Context {
    private final Ops tf;

    LossContext(Ops tf) {
      this.tf = tf;
    }

    @Override
    public Ops tf() {
      return tf;
    }

    @Override
    public Operand<TFloat32> tokenLogprobs() {
      return tokenLogprobs;
    }

    @Override
    public Operand<TFloat32> entropy() {
      return entropy;
    }

    @Override
    public Operand<TFloat32> placeholder(String name) {
      return lossPlaceholders.computeIfAbsent(name, n -> tf.withName(n).placeholder(TFloat32.class));
    }
  }

  public ModelConfig config() {
    return config;
  }

  /** Temperature under which {@link #forward} and the losses score tokens (default 1). */
  public void setTemperature(float t) {
    if (!(t > 0)) {
      throw new IllegalArgumentException("temperature must be positive, got " + t);
    }
    temperature = t;
  }

  /** Optimizer steps taken so far. */
  public long step() {
    return step;
  }

  // ---------------------------------------------------------------- weights and optimizer state

  /** Loads weights (by HF name) into the variables in one session call. */
  public void setWeights(ModelWeights w) {
    var runner = session.runner();
    List<Tensor> open = new ArrayList<>();
    try {
      for (var e : loadFeeds.entrySet()) {
        Tensor t = Feeds.floats(w.get(e.getKey()));
        open.add(t);
        runner.feed(e.getValue(), t);
      }
      loadOps.forEach(runner::addTarget);
      runner.run().close();
    } finally {
      open.forEach(Tensor::close);
    }
  }

  /** Reads all weights in one session call. */
  public ModelWeights getWeights() {
    return new ModelWeights(config, fetchAll(reads));
  }

  public void resetOptimizer() {
    session.runner().addTarget(zeroMoments).addTarget(zeroAccumulators).run().close();
    step = 0;
    pendingGradients = false;
  }

  public OptimizerState getOptimizerState() {
    Map<String, Operand<TFloat32>> ms = new LinkedHashMap<>();
    moments1.forEach((k, v) -> ms.put(k, v));
    Map<String, Operand<TFloat32>> vs = new LinkedHashMap<>();
    moments2.forEach((k, v) -> vs.put(k, v));
    return new OptimizerState(step, fetchAll(ms), fetchAll(vs));
  }

  public void setOptimizerState(OptimizerState s) {
    var runner = session.runner();
    List<Tensor> open = new ArrayList<>();
    try {
      for (String name : layout.keySet()) {
        Tensor m = Feeds.floats(s.m().get(name));
        Tensor v = Feeds.floats(s.v().get(name));
        open.add(m);
        open.add(v);
        runner.feed(m1Feeds.get(name), m).feed(m2Feeds.get(name), v);
      }
      momentLoadOps.forEach(runner::addTarget);
      runner.addTarget(zeroAccumulators);
      runner.run().close();
    } finally {
      open.forEach(Tensor::close);
    }
    step = s.step();
    pendingGradients = false;
  }

  /** The gradients accumulated since the last step (sum over micro-batches), by weight name. */
  public Map<String, FloatTensor> accumulatedGradients() {
    return fetchAll(accumulators);
  }

  private LinkedHashMap<String, FloatTensor> fetchAll(Map<String, ? extends Operand<TFloat32>> ops) {
    var runner = session.runner();
    List<String> names = new ArrayList<>(ops.keySet());
    names.forEach(n -> runner.fetch(ops.get(n)));
    LinkedHashMap<String, FloatTensor> out = new LinkedHashMap<>();
    try (Result r = runner.run()) {
      for (int i = 0; i < names.size(); i++) {
        FloatTensor t = FloatTensor.zeros(layout.get(names.get(i)));
        r.get(i).asRawTensor().data().asFloats().read(t.data());
        out.put(names.get(i), t);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- forward

  /** Logits [B*T*V] flattened row-major ([b][t][v]). */
  public float[] logits(int[][] ids, int[][] attention, int[][] positions) {
    try (Tensor i = Feeds.ints(ids); Tensor a = Feeds.ints(attention); Tensor p = Feeds.ints(positions);
        Result r = session.runner().feed(inputIds, i).feed(attentionMask, a).feed(positionIds, p).fetch(logits).run()) {
      float[] out = new float[Math.toIntExact(r.get(0).shape().size())];
      r.get(0).asRawTensor().data().asFloats().read(out);
      return out;
    }
  }

  /** Per-token log p(targets) and (optionally) entropy, [B][T]. */
  public TokenOutputs forward(int[][] ids, int[][] targetIds, int[][] attention, int[][] positions, boolean withEntropy) {
    try (Tensor i = Feeds.ints(ids); Tensor tg = Feeds.ints(targetIds); Tensor a = Feeds.ints(attention);
        Tensor p = Feeds.ints(positions)) {
      var runner = session.runner().feed(inputIds, i).feed(targets, tg).feed(attentionMask, a).feed(positionIds, p)
          .fetch(tokenLogprobs);
      if (withEntropy) {
        runner.fetch(entropy);
      }
      try (Tensor invT = TFloat32.scalarOf(1f / temperature)) {
        runner.feed(invTemperature, invT);
        return readForward(runner, ids.length, ids[0].length, withEntropy);
      }
    }
  }

  private static TokenOutputs readForward(Session.Runner runner, int b, int t, boolean withEntropy) {
    try (Result r = runner.run()) {
      return new TokenOutputs(Feeds.read2d(r.get(0), b, t), withEntropy ? Feeds.read2d(r.get(1), b, t) : null);
    }
  }

  // ---------------------------------------------------------------- training

  /**
   * Adds the gradient of one loss on one micro-batch to the accumulators and returns the loss and its metrics.
   * @param extra the loss's own placeholders by name
   */
  public Map<String, Float> accumulate(String loss, int[][] ids, int[][] targetIds, int[][] attention,
      int[][] positions, Map<String, Tensor> extra) {
    Op acc = accumulateOps.get(loss);
    if (acc == null) {
      throw new IllegalArgumentException("graph has no loss " + loss + " (built with " + accumulateOps.keySet() + ")");
    }
    Map<String, Operand<TFloat32>> metrics = lossMetrics.get(loss);
    List<String> names = new ArrayList<>(metrics.keySet());
    try (Tensor i = Feeds.ints(ids); Tensor tg = Feeds.ints(targetIds); Tensor a = Feeds.ints(attention);
        Tensor p = Feeds.ints(positions); Tensor invT = TFloat32.scalarOf(1f / temperature)) {
      var runner = session.runner().feed(inputIds, i).feed(targets, tg).feed(attentionMask, a).feed(positionIds, p)
          .feed(invTemperature, invT);
      for (var e : extra.entrySet()) {
        Placeholder<TFloat32> ph = lossPlaceholders.get(e.getKey());
        if (ph == null) {
          throw new IllegalArgumentException("no placeholder " + e.getKey());
        }
        runner.feed(ph, e.getValue());
      }
      runner.fetch(lossOps.get(loss));
      names.forEach(n -> runner.fetch(metrics.get(n)));
      runner.addTarget(acc);
      Map<String, Float> out = new LinkedHashMap<>();
      try (Result r = runner.run()) {
        out.put("loss", Feeds.scalar(r.get(0)));
        for (int k = 0; k < names.size(); k++) {
          out.put(names.get(k), Feeds.scalar(r.get(k + 1)));
        }
      }
      pendingGradients = true;
      return out;
    }
  }

  /**
   * One AdamW step on the accumulated gradients, then clears them. A non-finite gradient norm skips the step
   * (nothing applied, moments untouched) and reports applied=false.
   */
  public StepResult applyGradients(double learningRate, double weightDecay, double maxGradNorm) {
    if (!pendingGradients) {
      throw new IllegalStateException("no accumulated gradients");
    }
    float norm;
    try (Result r = session.runner().fetch(gradNorm).run()) {
      norm = Feeds.scalar(r.get(0));
    }
    boolean finite = Float.isFinite(norm);
    if (finite) {
      long t = step + 1;
      try (Tensor lr = TFloat32.scalarOf((float) learningRate);
          Tensor wd = TFloat32.scalarOf((float) weightDecay);
          Tensor mn = TFloat32.scalarOf((float) maxGradNorm);
          Tensor b1 = TFloat32.scalarOf((float) (1 - Math.pow(options.beta1(), t)));
          Tensor b2 = TFloat32.scalarOf((float) (1 - Math.pow(options.beta2(), t)))) {
        session.runner().feed(lrFeed, lr).feed(wdFeed, wd).feed(maxNormFeed, mn).feed(bc1Feed, b1).feed(bc2Feed, b2)
            .addTarget(applyOp).run().close();
      }
      step = t;
    }
    discardGradients();
    return new StepResult(norm, finite);
  }

  /** Clears accumulated gradients without applying them. */
  public void discardGradients() {
    session.runner().addTarget(zeroAccumulators).run().close();
    pendingGradients = false;
  }

  private static int[] toInts(long[] shape) {
    int[] s = new int[shape.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = Math.toIntExact(shape[i]);
    }
    return s;
  }

  private static int[] allAxes(int rank) {
    int[] a = new int[rank];
    for (int i = 0; i < rank; i++) {
      a[i] = i;
    }
    return a;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
