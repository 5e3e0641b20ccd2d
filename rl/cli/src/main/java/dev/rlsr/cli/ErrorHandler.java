// Turns exceptions from a command into one "error: ..." line on stderr and exit code 1 (stack trace with RLSR_DEBUG=1).
// Refusals of rlsr's own (RlsrException) met while parsing (a --config file, an unknown --device) read the same, and so
// does running out of memory (Java heap, TensorFlow, ONNX Runtime): what ran out, the plan, the flag, the checkpoint.
package dev.rlsr.cli;

import dev.rlsr.policy.util.RlsrException;
import picocli.CommandLine;

final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
    return print(ex, cl);
  }

  /** An {@link OutOfMemoryError} out of a command (Main's execution strategy catches it; picocli lets Errors through). */
  static int outOfMemory(OutOfMemoryError e, CommandLine cl) {
    return print(e, cl);
  }

  private static int print(Throwable ex, CommandLine cl) {
    String memory = MemoryGuard.outOfMemory(ex, cl.getCommandName());
    String msg = memory != null ? memory : ex.getMessage() == null ? ex.toString() : ex.getMessage();
    cl.getErr().println("error: " + msg);
    if (System.getenv("RLSR_DEBUG") != null) {
      ex.printStackTrace(cl.getErr());
    }
    cl.getErr().flush();
    return 1;
  }

  /**
   * Parse errors: an {@link RlsrException} raised by a converter or the default-value provider is printed as above;
   * picocli's own (unknown flag, missing required option, malformed number) go to {@code picocli}'s handler.
   */
  static final class Parameters implements CommandLine.IParameterExceptionHandler {
    private final CommandLine.IParameterExceptionHandler picocli;

    Parameters(CommandLine.IParameterExceptionHandler picocli) {
      this.picocli = picocli;
    }

    @Override
    public int handleParseException(CommandLine.ParameterException ex, String[] args) throws Exception {
      if (ex.getCause() instanceof RlsrException r) {
        return print(r, ex.getCommandLine());
      }
      return picocli.handleParseException(ex, args);
    }
  }
}
