// JSONL rows are never dropped silently: text after the object, two objects on a line and CR-only line endings are
// FILE:LINE errors; CRLF files read every row; blank lines are skipped (and still counted in line numbers).
package dev.rlsr.policy.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rlsr.policy.util.JsonLines;
import dev.rlsr.policy.util.RlsrException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(30)
class JsonlStrictLinesTest {
  @TempDir Path tmp;

  private static String row(int i) {
    return "{\"prompt\": \"p" + i + "\", \"response\": \"r" + i + "\"}";
  }

  private Path write(String name, String content) throws Exception {
    return Files.writeString(tmp.resolve(name), content, StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // the bad line 2 | what the message says
      "{\"prompt\": \"a\", \"response\": \"b\"} garbage|text after the JSON object that ends at column 32: `garbage`",
      "{\"prompt\": \"a\", \"response\": \"b\"}{\"prompt\": \"c\", \"response\": \"d\"}|text after the JSON object that ends at column 32: `{\"prompt\": \"c\"",
      "{\"prompt\": \"a\", \"response\": \"b\"}, {\"prompt\": \"c\", \"response\": \"d\"}|text after the JSON object",
      "{\"prompt\": \"a\", \"response\": \"b\"} 7|text after the JSON object",
      "\"just a string\"|not a JSON object (got string)",
      "42|not a JSON object (got number)",
      "{\"prompt\": \"a\", \"response\": \"b\"|not valid JSON",
      "{\"prompt\": \"a\", \"prompt\": \"b\", \"response\": \"c\"}|Duplicate field 'prompt'",
  })
  void badLineIsAFileLineError(String bad, String what) throws Exception {
    Path f = write("d.jsonl", row(1) + "\n" + bad + "\n" + row(3) + "\n");
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> JsonlDataset.read(f))
        .isInstanceOf(RlsrException.class)
        .hasMessageStartingWith(f + ":2: ")
        .hasMessageContaining(what)
        .hasNoCause();
    assertThat(System.nanoTime() - t0).isLessThan(5_000_000_000L);
  }

  @Test
  void whitespaceAfterTheObjectIsFine() throws Exception {
    Path f = write("ws.jsonl", row(1) + "   \t\n" + row(2) + " \r\n");
    assertThat(JsonlDataset.read(f)).containsExactly(Example.of("p1", "r1"), Example.of("p2", "r2"));
  }

  @Test
  void crOnlyFileIsRefusedNotShrunk() throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i <= 8; i++) {
      sb.append(row(i)).append('\r');
    }
    Path f = write("mac.jsonl", sb.toString());
    assertThatThrownBy(() -> JsonlDataset.read(f))
        .isInstanceOf(RlsrException.class)
        .hasMessage(f + ": uses CR-only line endings; convert to \\n (e.g. tr '\\r' '\\n' < IN > OUT)");
  }

  @Test
  void strayCarriageReturnInsideALineIsRefused() throws Exception {
    Path f = write("mixed.jsonl", row(1) + "\n" + row(2) + "\r" + row(3) + "\n");
    assertThatThrownBy(() -> JsonlDataset.read(f))
        .isInstanceOf(RlsrException.class)
        .hasMessageStartingWith(f + ":2: contains a carriage return");
  }

  @Test
  void crlfFileReadsAllRows() throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i <= 8; i++) {
      sb.append(row(i)).append("\r\n");
      if (i == 4) {
        sb.append("\r\n"); // a blank CRLF line
      }
    }
    List<Example> ex = JsonlDataset.read(write("dos.jsonl", sb.toString()));
    assertThat(ex).hasSize(8);
    assertThat(ex.get(7)).isEqualTo(Example.of("p8", "r8"));
    // and the last line may lack its ending
    assertThat(JsonlDataset.read(write("noeol.jsonl", row(1) + "\r\n" + row(2)))).hasSize(2);
  }

  @Test
  void blankLinesAreSkippedButCounted() throws Exception {
    Path f = write("blank.jsonl", "\n  \n" + row(1) + "\n\n[1]\n");
    assertThatThrownBy(() -> JsonlDataset.read(f)).hasMessageStartingWith(f + ":5: not a JSON object");
    List<JsonLines.Line> lines = JsonLines.readAll(write("b2.jsonl", "\n" + row(1) + "\n\n" + row(2) + "\n"));
    assertThat(lines).extracting(JsonLines.Line::number).containsExactly(2, 4);
  }

  @Test
  void splitOfDecodedTextFollowsTheSameRules() {
    assertThat(JsonLines.split(row(1) + "\r\n\r\n" + row(2), "t.jsonl")).extracting(JsonLines.Line::number)
        .containsExactly(1, 3);
    assertThatThrownBy(() -> JsonLines.split(row(1) + "\r" + row(2) + "\r", "t.jsonl"))
        .hasMessage("t.jsonl: uses CR-only line endings; convert to \\n (e.g. tr '\\r' '\\n' < IN > OUT)");
  }

  @Test
  void longFileIsStreamedAcrossReadChunks() throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 5000; i++) {
      sb.append(row(i)).append(i % 2 == 0 ? "\n" : "\r\n");
    }
    Path f = write("big.jsonl", sb.toString());
    assertThat(JsonlDataset.read(f)).hasSize(5000);
    List<Integer> first = new ArrayList<>();
    JsonLines.forEach(f, l -> {
      first.add(l.number());
      return first.size() < 3;
    });
    assertThat(first).containsExactly(1, 2, 3);
  }
}
