// The LoRA flags of sft and train (and so of train's --config files): a low-rank adapter trained on the frozen model
// instead of every weight, saved as a PEFT adapter directory (adapter_config.json, adapter_model.safetensors).
package dev.rlsr.cli;

import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.util.RlsrException;
import picocli.CommandLine.Option;

final class LoraMixin {
  @Option(names = "--lora-r", defaultValue = "0", description = "Rank r of a LoRA adapter trained on the frozen model (PEFT's r); checkpoints and the final model are then PEFT adapter directories on --model. 0 trains every weight (default: ${DEFAULT-VALUE}).")
  int r;

  @Option(names = "--lora-alpha", description = "LoRA alpha: the adapter's update B A x is scaled by alpha / r (default: 2 x --lora-r).")
  Double alpha;

  @Option(names = "--lora-dropout", defaultValue = "0", description = "Dropout on the adapter's input while training, in [0, 1) (default: ${DEFAULT-VALUE}).")
  double dropout;

  @Option(names = "--lora-target-modules", defaultValue = LoraConfig.ALL_LINEAR, description = "The linear layers adapted: comma-separated PEFT names (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj) or all-linear for all of them (default: ${DEFAULT-VALUE}).")
  String targetModules;

  /** The adapter the flags ask for; null with {@code --lora-r 0} (full fine-tuning). Refusals name the flag. */
  LoraConfig config() {
    if (r < 0) {
      throw new RlsrException("--lora-r must be >= 0 (0 trains every weight), got " + r);
    }
    if (r == 0) {
      String other = alpha != null ? "--lora-alpha" : dropout != 0 ? "--lora-dropout"
          : !targetModules.equals(LoraConfig.ALL_LINEAR) ? "--lora-target-modules" : null;
      if (other != null) {
        throw new RlsrException(other + " needs an adapter: give --lora-r R (R >= 1) as well, or drop " + other);
      }
      return null;
    }
    return new LoraConfig(r, alpha == null ? 2.0 * r : alpha, dropout, LoraConfig.parseTargets(targetModules));
  }
}
