// The shared --device flag: parsed into a Device by Device.parse (one message for an unknown name); whether CUDA is
// there is checked by Device.requireAvailable, where each command used to check it.
package dev.rlsr.cli;

import dev.rlsr.export.Device;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

final class DeviceMixin {
  @Option(names = "--device", defaultValue = Device.DEFAULT, converter = DeviceConverter.class,
      description = "ONNX Runtime execution provider: cpu or cuda, refused at once where this ONNX Runtime has no "
          + "CUDA (default: ${DEFAULT-VALUE}). It places the ONNX Runtime work: train's rollouts, eval's answers, "
          + "and generate and logprobs with --backend onnx only.")
  Device device;

  static final class DeviceConverter implements ITypeConverter<Device> {
    @Override
    public Device convert(String value) {
      return Device.parse(value);
    }
  }
}
