// `rlsr bench`: parent of the benchmark commands (each measures rlsr against a baseline and reports ratios).
package dev.rlsr.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks: rlsr against a baseline on this machine, with the ratio.",
    subcommands = {BenchEmbedCommand.class})
final class BenchCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
