// `rlsr bench`: parent of the benchmark subcommands (throughput measurements, not tests).
package dev.rlsr.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks: throughput of generation backends and of SFT training, printed as a table and written as JSON.",
    subcommands = {BenchGenerateCommand.class, BenchSftCommand.class})
public final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }
}
