// Test helper: runs the rlsr CLI in-process and captures exit code, stdout and stderr.
package dev.rlsr.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

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

  /** ../shared/data/NAME found by walking up from the working directory, or null when absent. */
  public static Path sharedData(String name) {
    Path p = Path.of("").toAbsolutePath();
    while (p != null) {
      Path candidate = p.resolve("shared/data").resolve(name);
      if (Files.exists(candidate)) {
        return candidate;
      }
      p = p.getParent();
    }
    return null;
  }

  private Cli() {}
}
