// The training side of a PolicyGraph: the losses it was built with, each fed from its typed input record, and the
// optimizer (AdamW with its gradient accumulators) over the graph's trainable parameters.
package dev.rlsr.policy.graph;

import dev.rlsr.policy.model.FloatTensor;
import dev.rlsr.policy.model.ModelWeights;
import dev.rlsr.policy.optim.AdamW;
import dev.rlsr.policy.optim.OptimizerState;
import dev.rlsr.policy.optim.Parameter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

public final class Training {
  private record Built<I extends LossSpec.Inputs>(LossSpec<I> spec, LossSpec.Outputs<I> outputs, Op accumulate) {}

  private final PolicyGraph model;
  private final Supplier<Session> session;
  private final AdamW optimizer;
  private final Map<String, Built<?>> losses = new LinkedHashMap<>();
  private final Map<String, Placeholder<TFloat32>> placeholders = new HashMap<>();
  private int microBatch; // accumulate calls since the last step (seeds the adapter's dropout masks)

  Training(PolicyGraph model, Ops tf, Graph graph, List<Parameter> trainable, AdamW.Hyper hyper,
      List<? extends LossSpec<?>> specs, Supplier<Session> session) {
    this.model = model;
    this.session = session;
    AdamW.Builder builder = new AdamW.Builder(tf, graph, trainable, hyper, n -> !ModelWeights.isNoDecay(n));
    LossSpec.Context ctx = new LossSpec.Context() {
      @Override
      public Ops tf() {
        return tf;
      }

      @Override
      public Operand<TFloat32> tokenLogprobs() {
        return model.tokenLogprobs();
      }

      @Override
      public Operand<TFloat32> entropy() {
        return model.entropy();
      }

      @Override
      public Placeholder<TFloat32> placeholder(String name) {
        return placeholders.computeIfAbsent(name, n -> tf.withName(n).placeholder(TFloat32.class));
      }
    };
    for (LossSpec<?> spec : specs) {
      if (losses.containsKey(spec.name())) {
        throw new IllegalArgumentException("two losses named " + spec.name());
      }
      losses.put(spec.name(), build(spec, ctx, builder, model, trainable));
    }
    optimizer = builder.build(session);
  }

  /** The loss's graph and its accumulate op, with gradients through the policy's head (PolicyGraph.gradients). */
  private static <I extends LossSpec.Inputs> Built<I> build(LossSpec<I> spec, LossSpec.Context ctx,
      AdamW.Builder builder, PolicyGraph model, List<Parameter> trainable) {
    LossSpec.Outputs<I> out = spec.build(ctx);
    return new Built<>(spec, out,
        builder.accumulate(spec.name(), model.gradients(spec.name(), out.loss(), trainable)));
  }

  /** The names of the tensors a step changes, in order; every other weight stays as loaded. */
  public List<String> trainableParameters() {
    return optimizer.parameterNames();
  }

  /** The optimizer and its gradient accumulators. */
  public AdamW optimizer() {
    return optimizer;
  }

  /**
   * Adds the gradient of one loss on one micro-batch to the accumulators and returns the loss ("loss") and its
   * metrics.
   * @param loss the loss as given when the graph was built (or one of the same class and name)
   */
  public <I extends LossSpec.Inputs> Map<String, Float> accumulate(LossSpec<I> loss, I inputs) {
    Built<?> found = losses.get(loss.name());
    if (found == null || found.spec().getClass() != loss.getClass()) {
      throw new IllegalArgumentException("graph has no loss " + loss.name() + " (built with " + losses.keySet() + ")");
    }
    @SuppressWarnings("unchecked")
    Built<I> built = (Built<I>) found;
    Map<String, Operand<TFloat32>> metrics = built.outputs().metrics();
    List<String> names = new ArrayList<>(metrics.keySet());
    Map<String, Float> out = new LinkedHashMap<>();
    try (Feeds.Run run = new Feeds.Run(session.get())) {
      model.feedScoring(run, inputs.tokens());
      model.feedTraining(run, optimizer.step(), microBatch);
      built.outputs().feeder().feed(inputs, run);
      run.fetch(built.outputs().loss());
      names.forEach(n -> run.fetch(metrics.get(n)));
      run.target(built.accumulate());
      try (Result r = run.run()) {
        out.put("loss", Feeds.scalar(r.get(0)));
        for (int k = 0; k < names.size(); k++) {
          out.put(names.get(k), Feeds.scalar(r.get(k + 1)));
        }
      }
    }
    optimizer.markAccumulated();
    microBatch++;
    return out;
  }

  /** See {@link AdamW#applyGradients}. */
  public AdamW.StepResult applyGradients(double learningRate, double weightDecay, double maxGradNorm) {
    microBatch = 0;
    return optimizer.applyGradients(learningRate, weightDecay, maxGradNorm);
  }

  /** Clears accumulated gradients without applying them. */
  public void discardGradients() {
    microBatch = 0;
    optimizer.discardGradients();
  }

  /** Optimizer steps taken so far. */
  public long step() {
    return optimizer.step();
  }

  /** Fresh optimizer state (zero moments, step 0) and no accumulated gradients. */
  public void resetOptimizer() {
    microBatch = 0;
    optimizer.reset();
  }

  public OptimizerState optimizerState() {
    return optimizer.state();
  }

  /** Restores moments and step count (as saved by {@link #optimizerState}) and clears accumulated gradients. */
  public void setOptimizerState(OptimizerState s) {
    microBatch = 0;
    optimizer.setState(s);
  }

  /** The gradients accumulated since the last step (sum over micro-batches), by weight name. */
  public Map<String, FloatTensor> accumulatedGradients() {
    return optimizer.accumulatedGradients();
  }
}
