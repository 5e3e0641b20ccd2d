// The ONNX Runtime execution provider of --device, with the one parser of its name and the one check that CUDA is
// there, used by every command and by the session factory.
package dev.rlsr.export;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.rlsr.policy.util.FlagChoices;
import dev.rlsr.policy.util.RlsrException;

public enum Device {
  /** ONNX Runtime's default CPU execution provider. */
  CPU,
  /** CUDA device 0; needs the onnxruntime_gpu build ({@code -Pgpu}) and a CUDA driver. */
  CUDA;

  /** The default of every {@code --device} flag. */
  public static final String DEFAULT = "cpu";

  /** The name on the command line and in run configs: "cpu" or "cuda". */
  @JsonValue
  public String flag() {
    return FlagChoices.name(this);
  }

  @Override
  public String toString() {
    return flag();
  }

  /** The device named {@code name} (any case); anything else is refused: "--device "x" is not known: use cpu or cuda". */
  public static Device parse(String name) {
    return FlagChoices.parse("--device", name, values());
  }

  /**
   * Refuses {@code --device cuda} at once when this ONNX Runtime build has no CUDA execution provider (the CPU
   * build; {@code -Pgpu} has it), before a model is loaded or a file written.
   *
   * @return this device
   */
  public Device requireAvailable() {
    if (this == CUDA && !OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      throw new RlsrException("--device cuda: CUDA is not available in this ONNX Runtime (providers: "
          + OrtEnvironment.getAvailableProviders() + "). Use --device cpu, or build with -Pgpu on a machine with CUDA.");
    }
    return this;
  }
}
