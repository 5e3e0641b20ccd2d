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
    cl.setExecutionExceptionHandler(new ErrorHandler());
    cl.setParameterExceptionHandler(new ErrorHandler.Parameters(cl.getParameterExceptionHandler()));
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    return cl;
  }

  public static void main(String[] args) {
    int code = commandLine().execute(args);
    System.exit(code);
  }
}
