// What the trainers share for a LoRA run: where it starts (the frozen base and the adapter's first tensors, a fresh
// PEFT initialisation or, with an adapter directory as --model, that adapter continued) and its run-config keys.
package dev.rlsr.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.checkpoint.HfModel;
import dev.rlsr.policy.model.LoraConfig;
import dev.rlsr.policy.model.TensorSource;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Path;

/**
 * @param baseDir the base model's directory, recorded as the adapter's base_model_name_or_path
 * @param base    the frozen base weights
 * @param adapter the adapter's starting tensors (rlsr names); null for a fresh adapter (the graph initialises it)
 */
public record LoraRun(Path baseDir, TensorSource base, TensorSource adapter) {
  /**
   * Where a run with adapter {@code lora} on {@code --model} (loaded as {@code model}) starts: a model directory is
   * the frozen base of a fresh adapter; an adapter directory with the same r, alpha and modules is continued on its
   * own base; one with others is refused, naming the flags.
   */
  public static LoraRun start(HfModel model, Path modelFlag, LoraConfig lora) {
    if (model.adapter() == null) {
      return new LoraRun(modelFlag.toAbsolutePath().normalize(), model.tensors(), null);
    }
    LoraConfig have = model.adapter().lora();
    if (have.r() != lora.r() || have.alpha() != lora.alpha() || !have.targetModules().equals(lora.targetModules())) {
      throw new RlsrException("--model " + modelFlag + " is a LoRA adapter (r " + have.r() + ", lora_alpha "
          + fmt(have.alpha()) + ", target_modules " + String.join(",", have.targetModules()) + "); continue it with"
          + " --lora-r " + have.r() + " --lora-alpha " + fmt(have.alpha()) + " --lora-target-modules "
          + String.join(",", have.targetModules()) + ", or train every weight of the merged model with --lora-r 0");
    }
    return new LoraRun(model.adapter().baseModel(), model.baseTensors(), model.adapterTensors());
  }

  /** The run-config keys of an adapter (none for full fine-tuning, as before LoRA existed): lora_r and the rest. */
  public static void record(ObjectNode runConfig, LoraConfig lora) {
    runConfig.remove("lora");
    if (lora == null) {
      return;
    }
    runConfig.put("lora_r", lora.r());
    runConfig.put("lora_alpha", lora.alpha());
    runConfig.put("lora_dropout", lora.dropout());
    runConfig.put("lora_target_modules", String.join(",", lora.targetModules()));
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
