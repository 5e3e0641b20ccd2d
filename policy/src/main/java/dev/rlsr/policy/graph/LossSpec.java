// A training objective added to the policy graph: built from per-token log-probs with placeholders of its own, and
// fed from a typed input record, so placeholder names never leave the loss.
package dev.rlsr.policy.graph;

import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** @param <I> the loss's input record (the token batch and the loss's own tensors) */
public interface LossSpec<I extends LossSpec.Inputs> {
  /** Names this loss in the graph; at most one loss of a name per graph. */
  String name();

  /** Builds the scalar loss, the scalar metrics fetched with it, and how to feed an input record. */
  Outputs<I> build(Context ctx);

  /** A loss's inputs: the tokens the policy scores, plus whatever the loss declares. */
  interface Inputs {
    TokenBatch tokens();
  }

  /** Feeds one input record's loss tensors (not the tokens: the graph feeds those) into the placeholders. */
  @FunctionalInterface
  interface Feeder<I> {
    void feed(I inputs, Feeds.Run run);
  }

  record Outputs<I>(Operand<TFloat32> loss, Map<String, Operand<TFloat32>> metrics, Feeder<I> feeder) {}

  /** What a loss can read: the ops, per-token log-probs of the targets, per-token entropy, and new placeholders. */
  interface Context {
    Ops tf();

    /** log p(targets[b, t] | inputs[b, 0..t]) [B, T]; the only path from a loss to the parameters' gradients */
    Operand<TFloat32> tokenLogprobs();

    /** entropy of the next-token distribution [B, T]; a metric: it carries no gradient (a loss gets none through it) */
    Operand<TFloat32> entropy();

    /** A float32 placeholder (any shape), fed by the loss's {@link Feeder}. */
    Placeholder<TFloat32> placeholder(String name);
  }
}
