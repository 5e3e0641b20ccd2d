// The other JSONL readers (eval outputs for `rlsr compare`, texts for `rlsr bench embed`) share JsonLines' rules:
// text after the object or CR-only line endings are errors naming the file and line, never dropped rows.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rlsr.eval.EvalRows;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class JsonlReadersStrictTest {
  @TempDir Path tmp;

  @Test
  void evalRowsRefuseTrailingTextAndCrOnlyFiles() throws Exception {
    Path f = Files.writeString(tmp.resolve("a.jsonl"), "{\"prompt\": \"p1\"}\n{\"prompt\": \"p2\"} {\"prompt\": \"p3\"}\n");
    assertThatThrownBy(() -> EvalRows.read(f)).isInstanceOf(RlsrException.class)
        .hasMessageStartingWith(f + " line 2: text after the JSON object");
    Path cr = Files.writeString(tmp.resolve("cr.jsonl"), "{\"prompt\": \"p1\"}\r{\"prompt\": \"p2\"}\r");
    assertThatThrownBy(() -> EvalRows.read(cr)).isInstanceOf(RlsrException.class)
        .hasMessageStartingWith(cr + ": uses CR-only line endings");
    Path crlf = Files.writeString(tmp.resolve("crlf.jsonl"), "{\"prompt\": \"p1\"}\r\n\r\n{\"prompt\": \"p2\"}\r\n");
    assertThat(EvalRows.read(crlf)).extracting(EvalRows.Row::line).containsExactly(1, 3);
  }

  @Test
  void benchEmbedTextsRefuseTrailingTextAndCrOnlyFiles() throws Exception {
    Path f = Files.writeString(tmp.resolve("t.jsonl"), "{\"response\": \"a\"}\n{\"response\": \"b\"} x\n");
    assertThatThrownBy(() -> BenchEmbedCommand.readTexts(f, "response", 10)).isInstanceOf(RlsrException.class)
        .hasMessageStartingWith(f + " line 2: text after the JSON object");
    Path cr = Files.writeString(tmp.resolve("cr.jsonl"), "{\"response\": \"a\"}\r{\"response\": \"b\"}\r");
    assertThatThrownBy(() -> BenchEmbedCommand.readTexts(cr, "response", 10)).isInstanceOf(RlsrException.class)
        .hasMessageStartingWith(cr + ": uses CR-only line endings");
    Path crlf = Files.writeString(tmp.resolve("crlf.jsonl"), "{\"response\": \"a\"}\r\n{\"response\": \"b\"}\r\n");
    assertThat(BenchEmbedCommand.readTexts(crlf, "response", 10)).containsExactly("a", "b");
    assertThat(BenchEmbedCommand.readTexts(crlf, "response", 1)).containsExactly("a");
  }
}
