// Turns exceptions from a command into one "error: ..." line on stderr and exit code 1 (stack trace with RLSR_DEBUG=1).
package dev.rlsr.cli;

import picocli.CommandLine;

final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
    String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
    cl.getErr().println("error: " + msg);
    if (System.getenv("RLSR_DEBUG") != null) {
      ex.printStackTrace(cl.getErr());
    }
    cl.getErr().flush();
    return 1;
  }
}
