// Reads text files as strict UTF-8: a file that is not valid UTF-8 ends with an error naming the file, line and byte.
package dev.rlsr.embedder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Strict UTF-8 reading for every text file a user hands to rlsr (no silent replacement characters). */
public final class Utf8Files {
  private Utf8Files() {}

  /**
   * The whole file as a string (a leading byte-order mark is dropped).
   *
   * @throws EmbedderException if the file is missing or unreadable, or is not valid UTF-8 (message gives line and byte)
   */
  public static String read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new EmbedderException("file " + file + " does not exist; check the path");
    } catch (IOException e) {
      throw new EmbedderException("cannot read " + file + ": " + e.getMessage(), e);
    }
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult result = decoder.decode(in, out, true);
    if (result.isUnderflow()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      int at = in.position();
      int line = 1;
      int lineStart = 0;
      for (int i = 0; i < at; i++) {
        if (bytes[i] == '\n') {
          line++;
          lineStart = i + 1;
        }
      }
      throw new EmbedderException(String.format(
          "%s is not valid UTF-8: byte 0x%02X at line %d, column %d (byte offset %d); "
              + "save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 %s > fixed)",
          file, bytes[at] & 0xff, line, at - lineStart + 1, at, file));
    }
    out.flip();
    String text = out.toString();
    return text.startsWith("\uFEFF") ? text.substring(1) : text;
  }
}
