// `rlsr bench`: parent of the benchmark subcommands (throughput measurements, not tests).
package dev.rlsr.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks (not tests): generation backends, SFT training steps, RLSR iterations by phase, rlsr's embedder against langchain4j and rlsr serve under load, on --model or a built-in --shape; a table and JSON.",
    subcommands = {BenchGenerateCommand.class, BenchSftCommand.class, BenchTrainCommand.class, BenchEmbedCommand.class,
        BenchDtypesCommand.class, BenchServeCommand.class})
public final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }
}
