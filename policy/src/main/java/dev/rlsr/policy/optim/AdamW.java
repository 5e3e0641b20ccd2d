// AdamW (torch.optim.AdamW semantics: decoupled weight decay, bias-corrected moments) over an explicit list of
// trainable parameters, with their gradient accumulators: losses add their gradients micro-batch by micro-batch, and
// a step applies the sum clipped to a global norm, with the learning rate and decay fed per step.
package dev.rlsr.policy.optim;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.TensorSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
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
import org.tensorflow.types.TFloat32;

public final class AdamW {
  /**
   * @param beta1   first-moment decay (default 0.9)
   * @param beta2   second-moment decay (default 0.999)
   * @param epsilon added to sqrt(v-hat) (default 1e-8, as torch.optim.AdamW)
   */
  public record Hyper(float beta1, float beta2, float epsilon) {
    public static final Hyper DEFAULT = new Hyper(0.9f, 0.999f, 1e-8f);
  }

  /** Result of one step: the global gradient norm before clipping, and whether the step was applied. */
  public record StepResult(float gradNorm, boolean applied) {}

  /**
   * Builds the optimizer into a graph in three stages, always in this order (so the graph, and every float it
   * computes, is the same each time): the constructor adds accumulators and moments for the parameters,
   * {@link #accumulate} the gradient of each loss, {@link #build} the step.
   */
  public static final class Builder {
    private final Ops tf;
    private final Graph graph;
    private final List<Parameter> params;
    private final Hyper hyper;
    private final Predicate<String> decays;
    private final Map<String, Variable<TFloat32>> accumulators = new LinkedHashMap<>();
    private final Map<String, Variable<TFloat32>> moments1 = new LinkedHashMap<>();
    private final Map<String, Variable<TFloat32>> moments2 = new LinkedHashMap<>();
    private final Map<String, Placeholder<TFloat32>> m1Feeds = new LinkedHashMap<>();
    private final Map<String, Placeholder<TFloat32>> m2Feeds = new LinkedHashMap<>();
    private final List<Op> momentLoadOps = new ArrayList<>();
    private final Op zeroAccumulators;
    private final Op zeroMoments;
    private boolean built;

    /**
     * @param params the parameters to train, in order (the order gradients are summed into the norm); a step
     *               touches nothing else
     * @param decays which parameters get weight decay (norms and biases usually do not)
     */
    public Builder(Ops tf, Graph graph, List<Parameter> params, Hyper hyper, Predicate<String> decays) {
      this.tf = tf;
      this.graph = graph;
      this.params = List.copyOf(params);
      this.hyper = hyper;
      this.decays = decays;
      List<Op> zeroAcc = new ArrayList<>();
      List<Op> zeroMom = new ArrayList<>();
      for (Parameter p : this.params) {
        String name = p.name();
        if (accumulators.containsKey(name)) {
          throw new IllegalArgumentException("parameter " + name + " given twice");
        }
        Shape shape = Shape.of(p.shape());
        Operand<TFloat32> zeros = tf.fill(tf.constant(TfIo.toInts(p.shape())), tf.constant(0f));
        Variable<TFloat32> a = tf.withName(name + "__grad_acc").variable(shape, TFloat32.class);
        Variable<TFloat32> m = tf.withName(name + "__adam_m").variable(shape, TFloat32.class);
        Variable<TFloat32> v = tf.withName(name + "__adam_v").variable(shape, TFloat32.class);
        accumulators.put(name, a);
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
    }

    /** The op that adds the gradient of {@code loss} with respect to every parameter (plain autodiff) to the accumulators. */
    public Op accumulate(String name, Operand<TFloat32> loss) {
      Output<?>[] xs = params.stream().map(p -> p.read().asOutput()).toArray(Output[]::new);
      Output<?>[] grads = graph.addGradients(loss.asOutput(), xs);
      List<List<Operand<TFloat32>>> parts = new ArrayList<>();
      for (Output<?> g : grads) {
        @SuppressWarnings("unchecked")
        Output<TFloat32> f = (Output<TFloat32>) g;
        parts.add(List.of(f));
      }
      return accumulate(name, parts);
    }

    /**
     * The op that adds given gradients to the accumulators.
     * @param gradients per parameter, in the builder's order, the parts its gradient is the sum of: each is added to
     *                  the accumulator in turn (no temporary for their sum)
     */
    public Op accumulate(String name, List<? extends List<? extends Operand<TFloat32>>> gradients) {
      if (built) {
        throw new IllegalStateException("add every loss before build()");
      }
      if (gradients.size() != params.size()) {
        throw new IllegalArgumentException(gradients.size() + " gradients for " + params.size() + " parameters");
      }
      List<Op> adds = new ArrayList<>();
      for (int i = 0; i < params.size(); i++) {
        Variable<TFloat32> acc = accumulators.get(params.get(i).name());
        Op last = null;
        for (Operand<TFloat32> part : gradients.get(i)) {
          last = last == null ? tf.assignAdd(acc, part) : tf.withControlDependencies(List.of(last)).assignAdd(acc, part);
        }
        if (last == null) {
          throw new IllegalArgumentException("no gradient for " + params.get(i).name());
        }
        adds.add(last);
      }
      return tf.withName("accumulate_" + name).withControlDependencies(adds).noOp();
    }

    /**
     * Adds the step; the session (created once the whole graph is built) runs the optimizer. Its moments start
     * unset: {@link #reset} or {@link #setState} before the first step.
     */
    public AdamW build(Supplier<Session> session) {
      if (built) {
        throw new IllegalStateException("already built");
      }
      built = true;
      return new AdamW(this, session);
    }
  }

  private final Supplier<Session> session;
  private final Hyper hyper;
  private final List<String> names;
  private final Map<String, Variable<TFloat32>> accumulators;
  private final Map<String, Variable<TFloat32>> moments1;
  private final Map<String, Variable<TFloat32>> moments2;
  private final Map<String, Placeholder<TFloat32>> m1Feeds;
  private final Map<String, Placeholder<TFloat32>> m2Feeds;
  private final List<Op> momentLoadOps;
  private final Op zeroAccumulators;
  private final Op zeroMoments;
  private final Op applyOp;
  private final Op decayAndApplyOp;
  private final Operand<TFloat32> gradNorm;
  private final Placeholder<TFloat32> lrFeed;
  private final Placeholder<TFloat32> decayFeed;
  private final Placeholder<TFloat32> clipFeed;
  private final Operand<TFloat32> noBetaPower;
  private final Placeholder<TFloat32> epsilonFeed;
  private long step;
  private boolean pendingGradients;

  private AdamW(Builder b, Supplier<Session> session) {
    Ops tf = b.tf;
    this.session = session;
    this.hyper = b.hyper;
    this.names = b.params.stream().map(Parameter::name).toList();
    this.accumulators = b.accumulators;
    this.moments1 = b.moments1;
    this.moments2 = b.moments2;
    this.m1Feeds = b.m1Feeds;
    this.m2Feeds = b.m2Feeds;
    this.momentLoadOps = b.momentLoadOps;
    this.zeroAccumulators = b.zeroAccumulators;
    this.zeroMoments = b.zeroMoments;

    // AdamW (torch.optim.AdamW semantics) on the accumulated gradient, clipped to a global norm, with TensorFlow's
    // fused ApplyAdam per parameter (one pass over p, m, v and g instead of ~15 elementwise ops over each):
    //   ApplyAdam: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); p -= a m / (sqrt(v) + e'),
    //              a = lr' sqrt(1 - beta2_power) / (1 - beta1_power)
    //   torch:     p -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    // equal in math with a = lr sqrt(1 - b2^t) / (1 - b1^t) and e' = eps sqrt(1 - b2^t). Both are computed in double
    // and fed, with the beta powers given as 0 (so a = lr'): fed as float32, 1 - 0.999f would put a 5e-5 relative
    // error into the first step. The decoupled decay p *= 1 - lr wd runs first, as in torch, and only in the step built
    // for wd > 0 (decayAndApplyOp), as one fused p -= (lr wd) p.
    lrFeed = scalar(tf, "adamw_bias_corrected_lr");
    decayFeed = scalar(tf, "adamw_lr_times_weight_decay");
    clipFeed = scalar(tf, "adamw_clip_coefficient");
    noBetaPower = tf.constant(0f);
    epsilonFeed = scalar(tf, "adamw_epsilon_hat");
    // global norm: sqrt(sum 2 l2_loss(g)), a fused reduction without a squared copy of each gradient
    Operand<TFloat32> sq = null;
    for (Variable<TFloat32> a : accumulators.values()) {
      Operand<TFloat32> s = tf.nn.l2Loss(a);
      sq = sq == null ? s : tf.math.add(sq, s);
    }
    gradNorm = tf.withName("grad_norm").math.sqrt(tf.math.mul(sq, tf.constant(2f)));
    Operand<TFloat32> beta1 = tf.constant(hyper.beta1());
    Operand<TFloat32> beta2 = tf.constant(hyper.beta2());
    List<Op> plain = new ArrayList<>();
    List<Op> decayed = new ArrayList<>();
    for (Parameter par : b.params) {
      String name = par.name();
      Variable<TFloat32> p = par.variable();
      Operand<TFloat32> g = tf.math.mul(accumulators.get(name), clipFeed); // the clip, multiplied in once
      plain.add(adam(tf, p, moments1.get(name), moments2.get(name), beta1, beta2, g));
      if (b.decays.test(name)) {
        Op decay = tf.train.applyGradientDescent(p, decayFeed, tf.identity(p)); // p -= (lr wd) p, in place
        decayed.add(adam(tf.withControlDependencies(List.of(decay)), p, moments1.get(name), moments2.get(name), beta1,
            beta2, g));
      } else {
        decayed.add(adam(tf, p, moments1.get(name), moments2.get(name), beta1, beta2, g));
      }
    }
    applyOp = tf.withName("adamw_apply").withControlDependencies(plain).noOp();
    decayAndApplyOp = tf.withName("adamw_decay_and_apply").withControlDependencies(decayed).noOp();
  }

  private static Placeholder<TFloat32> scalar(Ops tf, String name) {
    return tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
  }

  private Op adam(Ops tf, Variable<TFloat32> p, Variable<TFloat32> m, Variable<TFloat32> v, Operand<TFloat32> beta1,
      Operand<TFloat32> beta2, Operand<TFloat32> g) {
    return tf.train.applyAdam(p, m, v, noBetaPower, noBetaPower, lrFeed, beta1, beta2, epsilonFeed, g);
  }

  public Hyper hyper() {
    return hyper;
  }

  /** The names of the trained parameters, in order. */
  public List<String> parameterNames() {
    return names;
  }

  /** Steps taken so far. */
  public long step() {
    return step;
  }

  /** Records that an {@link Builder#accumulate} op ran: {@link #applyGradients} has something to apply. */
  public void markAccumulated() {
    pendingGradients = true;
  }

  /** Zero moments, step 0, no accumulated gradients. */
  public void reset() {
    session.get().runner().addTarget(zeroMoments).addTarget(zeroAccumulators).run().close();
    step = 0;
    pendingGradients = false;
  }

  public OptimizerState state() {
    return new OptimizerState(step, TfIo.fetchAll(session.get(), moments1), TfIo.fetchAll(session.get(), moments2));
  }

  /** Name of a parameter's first moment in {@link #moments} and in optimizer.safetensors. */
  public static String firstMoment(String param) {
    return "m." + param;
  }

  /** Name of a parameter's second moment in {@link #moments} and in optimizer.safetensors. */
  public static String secondMoment(String param) {
    return "v." + param;
  }

  /**
   * The moments as a live source: {@link #firstMoment m.NAME} of every trained parameter in order, then
   * {@link #secondMoment v.NAME}, fetched a group at a time ({@link TfStreams#fetching}; a checkpoint streams them
   * through this; take a new view for each pass).
   */
  public TensorSource moments() {
    LinkedHashMap<String, Operand<TFloat32>> all = new LinkedHashMap<>();
    moments1.forEach((name, m) -> all.put(firstMoment(name), m));
    moments2.forEach((name, v) -> all.put(secondMoment(name), v));
    return TfStreams.fetching(session, all);
  }

  /**
   * {@link #setState} streamed: assigns every trained parameter's moments from {@code moments} (named as in
   * {@link #moments}; other tensors are ignored) a group of tensors per session call, sets the step count and clears
   * accumulated gradients. Every moment must be there with its parameter's shape (checked before anything changes).
   */
  public void restore(TensorSource moments, long step) {
    LinkedHashMap<String, long[]> have = moments.shapes();
    for (String name : names) {
      long[] shape = moments1.get(name).shape().asArray();
      if (!have.containsKey(firstMoment(name)) || !have.containsKey(secondMoment(name))) {
        throw new IllegalArgumentException("optimizer state has no moments for " + name);
      }
      TfStreams.requireShape(have, firstMoment(name), shape);
      TfStreams.requireShape(have, secondMoment(name), shape);
    }
    // momentLoadOps holds, per trained parameter in order, the assign of m then the assign of v (see Builder)
    LinkedHashMap<String, TfStreams.Assignment> assignments = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      long[] shape = moments1.get(name).shape().asArray();
      assignments.put(firstMoment(name), new TfStreams.Assignment(shape, m1Feeds.get(name), momentLoadOps.get(2 * i)));
      assignments.put(secondMoment(name), new TfStreams.Assignment(shape, m2Feeds.get(name),
          momentLoadOps.get(2 * i + 1)));
    }
    TfStreams.assignAll(session.get(), moments, assignments);
    session.get().runner().addTarget(zeroAccumulators).run().close();
    this.step = step;
    pendingGradients = false;
  }

  /**
   * Restores moments (every trained parameter must be in {@code s}; other names are ignored) and the step count,
   * and clears accumulated gradients.
   */
  public void setState(OptimizerState s) {
    var runner = session.get().runner();
    List<Tensor> open = new ArrayList<>();
    try {
      for (String name : names) {
        FloatTensor mt = s.m().get(name);
        FloatTensor vt = s.v().get(name);
        if (mt == null || vt == null) {
          throw new IllegalArgumentException("optimizer state has no moments for " + name);
        }
        Tensor m = TfIo.floats(mt);
        open.add(m);
        Tensor v = TfIo.floats(vt);
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

  /** The gradients accumulated since the last step (sum over micro-batches), by parameter name. */
  public Map<String, FloatTensor> accumulatedGradients() {
    return TfIo.fetchAll(session.get(), accumulators);
  }

  /**
   * One AdamW step on the accumulated gradients clipped to {@code maxGradNorm} (0 or less: no clipping), then clears
   * them. A non-finite gradient norm skips the step (nothing applied, moments untouched) and reports applied=false.
   */
  public StepResult applyGradients(double learningRate, double weightDecay, double maxGradNorm) {
    if (!pendingGradients) {
      throw new IllegalStateException("no accumulated gradients");
    }
    float norm;
    try (Result r = session.get().runner().fetch(gradNorm).run()) {
      norm = TfIo.scalar(r.get(0));
    }
    boolean finite = Float.isFinite(norm);
    if (finite) {
      long t = step + 1;
      // clip coefficient as torch.nn.utils.clip_grad_norm_: min(1, max_norm / (norm + 1e-6)); max_norm <= 0: none
      float mn = (float) maxGradNorm;
      float clip = mn > 0 ? Math.min(1f, mn / (norm + 1e-6f)) : 1f;
      double sqrtBc2 = Math.sqrt(1 - Math.pow(hyper.beta2(), t));
      double bc1 = 1 - Math.pow(hyper.beta1(), t);
      boolean decay = weightDecay > 0;
      try (Tensor lr = TFloat32.scalarOf((float) (learningRate * sqrtBc2 / bc1));
          Tensor lrWd = TFloat32.scalarOf((float) (learningRate * weightDecay));
          Tensor c = TFloat32.scalarOf(clip);
          Tensor eps = TFloat32.scalarOf((float) (hyper.epsilon() * sqrtBc2))) {
        var runner = session.get().runner().feed(lrFeed, lr).feed(clipFeed, c).feed(epsilonFeed, eps);
        if (decay) {
          runner.feed(decayFeed, lrWd);
        }
        runner.addTarget(decay ? decayAndApplyOp : applyOp).run().close();
      }
      step = t;
    }
    discardGradients();
    return new StepResult(norm, finite);
  }

  /** Clears accumulated gradients without applying them. */
  public void discardGradients() {
    session.get().runner().addTarget(zeroAccumulators).run().close();
    pendingGradients = false;
  }

}
