// picocli converters of the flags that take one of a few names; an unknown name is refused by FlagChoices in one
// message shape ("--logits "x" is not known: use last or all"), printed as an error line (exit code 1).
package dev.rlsr.cli;

import dev.rlsr.export.OnnxPolicyExporter;
import dev.rlsr.export.runtime.RolloutEngines.Backend;
import dev.rlsr.policy.util.FlagChoices;
import picocli.CommandLine.ITypeConverter;

final class FlagConverters {
  private FlagConverters() {}

  /** {@code --logits last|all} of bench generate. */
  static final class Logits implements ITypeConverter<OnnxPolicyExporter.Logits> {
    @Override
    public OnnxPolicyExporter.Logits convert(String value) {
      return FlagChoices.parse("--logits", value, OnnxPolicyExporter.Logits.LAST, OnnxPolicyExporter.Logits.ALL);
    }
  }

  /** {@code --format onnx|safetensors|both|onnx-adapter} of export. */
  static final class Format implements ITypeConverter<ExportCommand.Format> {
    @Override
    public ExportCommand.Format convert(String value) {
      return FlagChoices.parse("--format", value, ExportCommand.Format.values());
    }
  }

  /** {@code --is-mode} of train: TRL's names, with hyphens or underscores. */
  static final class IsMode implements ITypeConverter<dev.rlsr.rl.GrpoConfig.IsMode> {
    @Override
    public dev.rlsr.rl.GrpoConfig.IsMode convert(String value) {
      return FlagChoices.parse("--is-mode", value.replace('_', '-'), dev.rlsr.rl.GrpoConfig.IsMode.values());
    }
  }

  /** {@code --rollout-dtype fp32|q8|q4} of train. */
  static final class RolloutDtype implements ITypeConverter<dev.rlsr.export.ExportDtype> {
    @Override
    public dev.rlsr.export.ExportDtype convert(String value) {
      return FlagChoices.parse("--rollout-dtype", value, dev.rlsr.export.ExportDtype.FP32,
          dev.rlsr.export.ExportDtype.Q8, dev.rlsr.export.ExportDtype.Q4);
    }
  }

  /** {@code --backend onnx|tf} of generate (ONNX Runtime with the KV cache, or the TensorFlow graph). */
  static final class GenerateBackend implements ITypeConverter<Backend> {
    @Override
    public Backend convert(String value) {
      return FlagChoices.parse("--backend", value, Backend.ONNX, Backend.TF);
    }
  }

  /** {@code --backend tf|onnx} of logprobs. */
  static final class LogprobsBackend implements ITypeConverter<Backend> {
    @Override
    public Backend convert(String value) {
      return FlagChoices.parse("--backend", value, Backend.TF, Backend.ONNX);
    }
  }
}
