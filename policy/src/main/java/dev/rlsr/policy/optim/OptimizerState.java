// What a checkpoint keeps of the optimizer: the step count and the AdamW moments by parameter name.
package dev.rlsr.policy.optim;

import dev.rlsr.policy.model.FloatTensor;
import java.util.Map;

/** AdamW state: the step count and the first/second moments by parameter name. */
public record OptimizerState(long step, Map<String, FloatTensor> m, Map<String, FloatTensor> v) {}
