// A trainable tensor: the variable an optimizer updates and the read of it that losses are differentiated through.
package dev.rlsr.policy.optim;

import org.tensorflow.Operand;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * @param name     the tensor's name (the Hugging Face weight name for model weights)
 * @param variable the variable holding the value
 * @param read     the value as the forward pass reads it (an identity of the variable); gradients are taken here
 */
public record Parameter(String name, Variable<TFloat32> variable, Operand<TFloat32> read) {
  public long[] shape() {
    return variable.shape().asArray();
  }
}
