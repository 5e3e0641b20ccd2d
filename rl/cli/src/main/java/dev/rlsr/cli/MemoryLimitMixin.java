// The --memory-limit flag of sft, pretrain and train (a key of train's --config file too): the memory the run may
// use, against which its memory plan is checked before anything is loaded.
package dev.rlsr.cli;

import dev.rlsr.train.AvailableMemory;
import picocli.CommandLine;
import picocli.CommandLine.Option;

final class MemoryLimitMixin {
  @Option(names = "--memory-limit", paramLabel = "SIZE", defaultValue = AvailableMemory.AUTO, converter = Size.class,
      description = "Memory this run may use, e.g. 20g or 512m (binary units); a run whose memory plan needs more is"
          + " refused before anything is loaded, naming the flag to lower (default: ${DEFAULT-VALUE}: MemAvailable of"
          + " /proc/meminfo, bounded by a cgroup memory limit).")
  String memoryLimit;

  /** The memory the run may use: the size given, or what the machine (or its cgroup) has free now. */
  AvailableMemory available() {
    return memoryLimit.equals(AvailableMemory.AUTO) ? AvailableMemory.detect()
        : AvailableMemory.stated(AvailableMemory.parseSize(memoryLimit), memoryLimit);
  }

  /** Checks the value while parsing (flag or --config key): a size or auto. */
  static final class Size implements CommandLine.ITypeConverter<String> {
    @Override
    public String convert(String value) {
      if (!value.equals(AvailableMemory.AUTO)) {
        try {
          AvailableMemory.parseSize(value);
        } catch (IllegalArgumentException e) {
          throw new CommandLine.TypeConversionException(e.getMessage());
        }
      }
      return value;
    }
  }
}
