// Entry point of the rlsr CLI: one picocli subcommand class per command, errors printed as one clear line.
package dev.rlsr.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(
    name = "rlsr",
    mixinStandardHelpOptions = true,
    version = "rlsr 0.1.0",
    description = "Post-train causal language models with SFT and RLSR, export them to ONNX, and benchmark backends.",
    subcommands = {
      CommandLine.HelpCommand.class,
      SftCommand.class,
      LogprobsCommand.class,
      TrainCommand.class,
      PretrainCommand.class,
      DemoDataCommand.class,
      DemoBaseCommand.class,
      CompareCommand.class,
      EvalCommand.class,
      DemoCommand.class,
      GenerateCommand.class,
      ChatTemplateCommand.class,
      ExportCommand.class,
      EmbedCommand.class,
      RewardCommand.class,
      BenchCommand.class,
      ServeCommand.class,
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The configured command line (tests use it with their own writers). */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionStrategy(Main::execute);
    cl.setExecutionExceptionHandler(new ErrorHandler());
    cl.setParameterExceptionHandler(new ErrorHandler.Parameters(cl.getParameterExceptionHandler()));
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    return cl;
  }

  /** Runs the command; an OutOfMemoryError, which picocli does not catch, ends as one error line too. */
  private static int execute(CommandLine.ParseResult parsed) {
    MemoryGuard.clear();
    try {
      return new CommandLine.RunLast().execute(parsed);
    } catch (OutOfMemoryError e) {
      CommandLine.ParseResult last = parsed;
      while (last.hasSubcommand()) {
        last = last.subcommand();
      }
      return ErrorHandler.outOfMemory(e, last.commandSpec().commandLine());
    }
  }

  public static void main(String[] args) {
    int code = commandLine().execute(args);
    System.exit(code);
  }
}
