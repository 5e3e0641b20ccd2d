// Test helper: runs the rlsr CLI in-process and captures exit code, stdout and stderr.
package dev.rlsr.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

public final class Cli {
  public record Run(int code, String out, String err) {}

  public static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }


  private Cli() {}
}
