// One text given on the command line: literally (--text style) or as a UTF-8 file whose whole content is the text.
package dev.rlsr.cli;

import dev.rlsr.embedder.Utf8Files;
import java.nio.file.Path;

final class TextArg {
  private TextArg() {}

  /** The literal text, or the file's content (strict UTF-8; a trailing newline is dropped). */
  static String resolve(String literal, Path file) {
    if (literal != null) {
      return literal;
    }
    String text = Utf8Files.read(file);
    if (text.endsWith("\r\n")) {
      return text.substring(0, text.length() - 2);
    }
    return text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
  }
}
