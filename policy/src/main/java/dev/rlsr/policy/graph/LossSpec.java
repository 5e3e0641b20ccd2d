// A training objective added to the policy graph: built from per-token log-probs, with its own placeholders.
package dev.rlsr.policy.graph;

import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

public interface LossSpec {
  /** Name used to select this loss in {@link PolicyGraph#accumulate}. */
  String name();

  /** Builds the scalar loss (and scalar metrics fetched with it) from the context's tensors. */
  Outputs build(Context ctx);

  record Outputs(Operand<TFloat32> loss, Map<String, Operand<TFloat32>> metrics) {}

  /** What a loss can read: the ops, per-token log-probs of the targets, per-token entropy, and new placeholders. */
  interface Context {
    Ops tf();

    /** log p(targets[b, t] | inputs[b, 0..t]) [B, T] */
    Operand<TFloat32> tokenLogprobs();

    /** entropy of the next-token distribution [B, T] */
    Operand<TFloat32> entropy();

    /** A float32 placeholder fed by name at each accumulate call (any shape). */
    Operand<TFloat32> placeholder(String name);
  }
}
