// The one JSON Lines reader: UTF-8, exactly one JSON object per line, lines ended by \n or \r\n. Whatever would
// otherwise drop rows silently (text after the object, two objects on a line, CR-only line endings) is an error.
package dev.rlsr.policy.util;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Rules, the same for every JSONL file rlsr reads (training data, eval outputs, embedding benchmarks):
 * <ul>
 *   <li>Lines end with {@code \n} or {@code \r\n}; the last line may lack its ending. A file with CR-only line
 *       endings is refused ({@code FILE: uses CR-only line endings; convert to \n}), and so is a carriage return
 *       inside a line, rather than read as one long line.</li>
 *   <li>Blank lines (empty or only whitespace) are skipped; line numbers still count them.</li>
 *   <li>Every other line is exactly one JSON object: text after it (another object, a stray token) is an error, not
 *       ignored; duplicate keys are an error. Whitespace after the object is fine.</li>
 *   <li>UTF-8, checked line by line; a byte-order mark at the start is dropped.</li>
 * </ul>
 * Errors read {@code FILE:LINE: what is wrong}; {@link #parseObject} leaves the location to its caller.
 */
public final class JsonLines {
  /** A non-blank line: its 1-based number and its text without the line ending. */
  public record Line(int number, String text) {}

  /** Receives lines in order; returns false to stop reading. */
  @FunctionalInterface
  public interface Visitor {
    boolean accept(Line line);
  }

  /** Why a line is not one JSON object; the message has no location (the caller adds file and line). */
  public static final class BadLine extends Exception {
    BadLine(String message) {
      super(message);
    }
  }

  private static final ObjectReader READER =
      StrictJson.JSON.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private JsonLines() {}

  /** Every non-blank line of the file. */
  public static List<Line> readAll(Path file) {
    List<Line> out = new ArrayList<>();
    forEach(file, l -> out.add(l));
    return out;
  }

  /** Streams the non-blank lines of the file to {@code visitor} (until it returns false). */
  public static void forEach(Path file, Visitor visitor) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try (InputStream in = Files.newInputStream(file)) {
      byte[] chunk = new byte[1 << 16];
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      int lineNo = 0;
      while (true) {
        int r = in.read(chunk);
        int from = 0;
        for (int i = 0; i < Math.max(r, 0); i++) {
          if (chunk[i] == '\n') {
            line.write(chunk, from, i - from);
            from = i + 1;
            if (!emit(file, ++lineNo, line, false, decoder, visitor)) {
              return;
            }
            line.reset();
          }
        }
        if (r < 0) {
          if (line.size() > 0) {
            emit(file, ++lineNo, line, true, decoder, visitor);
          }
          return;
        }
        line.write(chunk, from, r - from);
      }
    } catch (NoSuchFileException e) {
      throw new RlsrException(file + ": not found");
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /**
   * The non-blank lines of already decoded text, by the same rules ({@code file} only names it in errors).
   */
  public static List<Line> split(String content, Object file) {
    List<Line> out = new ArrayList<>();
    int lineNo = 0;
    int from = 0;
    while (from < content.length()) {
      int nl = content.indexOf('\n', from);
      boolean last = nl < 0;
      String raw = content.substring(from, last ? content.length() : nl);
      from = last ? content.length() : nl + 1;
      String text = checkEnding(file, ++lineNo, raw, last);
      if (lineNo == 1 && text.startsWith("\uFEFF")) {
        text = text.substring(1);
      }
      if (!text.isBlank()) {
        out.add(new Line(lineNo, text));
      }
    }
    return out;
  }

  private static boolean emit(Path file, int lineNo, ByteArrayOutputStream bytes, boolean atEof,
      CharsetDecoder decoder, Visitor visitor) {
    String raw;
    try {
      raw = decoder.decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      if (atEof && lineNo == 1 && bytes.toString(StandardCharsets.ISO_8859_1).contains("\r")) {
        throw crOnly(file);
      }
      throw new RlsrException(file + ":" + lineNo + ": not valid UTF-8 (save the file as UTF-8)");
    }
    String text = checkEnding(file, lineNo, raw, atEof);
    if (lineNo == 1 && text.startsWith("\uFEFF")) {
      text = text.substring(1); // byte order mark
    }
    return text.isBlank() || visitor.accept(new Line(lineNo, text));
  }

  /** Drops a final '\r' (CRLF); any other carriage return is refused. */
  private static String checkEnding(Object file, int lineNo, String raw, boolean lastLine) {
    String text = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
    if (text.indexOf('\r') >= 0) {
      if (lastLine && lineNo == 1) { // not one '\n' in the whole file
        throw crOnly(file);
      }
      throw new RlsrException(file + ":" + lineNo + ": contains a carriage return (\\r) that does not end the line;"
          + " lines must end with \\n or \\r\\n (convert CR-only line endings to \\n)");
    }
    return text;
  }

  private static RlsrException crOnly(Object file) {
    return new RlsrException(file + ": uses CR-only line endings; convert to \\n (e.g. tr '\\r' '\\n' < IN > OUT)");
  }

  /**
   * The line as exactly one JSON object.
   *
   * @throws BadLine when it is not valid JSON, not an object, or has anything but whitespace after the object
   */
  public static ObjectNode parseObject(String text) throws BadLine {
    JsonNode n;
    try (JsonParser p = READER.createParser(text)) {
      n = READER.readTree(p);
      if (n == null || n.isMissingNode()) {
        throw new BadLine("no JSON value");
      }
      int end = (int) Math.min(text.length(), Math.max(0, p.currentLocation().getCharOffset()));
      JsonToken next;
      try {
        next = p.nextToken();
      } catch (JsonProcessingException e) {
        next = JsonToken.NOT_AVAILABLE; // an unparseable token after the value
      }
      if (next != null) {
        String rest = text.substring(end).strip();
        throw new BadLine("text after the JSON " + StrictJson.kind(n) + " that ends at column " + end + ": `"
            + (rest.length() <= 40 ? rest : rest.substring(0, 37) + "...")
            + "` (each line must hold exactly one JSON object)");
      }
    } catch (JsonProcessingException e) {
      throw new BadLine("not valid JSON (" + e.getOriginalMessage() + ")");
    } catch (IOException e) {
      throw new BadLine("not valid JSON (" + e.getMessage() + ")");
    }
    if (!(n instanceof ObjectNode o)) {
      throw new BadLine("not a JSON object (got " + StrictJson.kind(n) + ")");
    }
    return o;
  }
}
