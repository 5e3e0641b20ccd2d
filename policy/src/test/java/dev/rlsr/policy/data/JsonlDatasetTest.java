// JSONL reading: the three accepted shapes, and errors naming file and line for every kind of bad line.
package dev.rlsr.policy.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rlsr.policy.testing.SharedData;
import dev.rlsr.policy.util.RlsrException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonlDatasetTest {
  @TempDir Path tmp;

  private Path file(String... lines) throws Exception {
    Path f = tmp.resolve("data.jsonl");
    Files.writeString(f, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    return f;
  }

  @Test
  void readsAllThreeShapesAndSkipsBlankLines() throws Exception {
    Path f = file(
        "{\"prompt\": \"Say hi\", \"response\": \"hi\", \"source\": \"ignored\"}",
        "",
        "{\"instruction\": \"Translate\", \"input\": \"chat\", \"output\": \"cat\"}",
        "{\"instruction\": \"Name a colour\", \"input\": \"\", \"output\": \"red\"}",
        "{\"instruction\": \"Name a fruit\", \"output\": \"fig\"}",
        "   ",
        "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"2+2?\"},"
            + " {\"role\": \"assistant\", \"content\": \"4\"}, {\"role\": \"user\", \"content\": \"and 3+3?\"},"
            + " {\"role\": \"assistant\", \"content\": \"6\"}]}");
    List<Example> ex = JsonlDataset.read(f);
    assertThat(ex).hasSize(5);
    assertThat(ex.get(0)).isEqualTo(Example.of("Say hi", "hi"));
    assertThat(ex.get(1)).isEqualTo(Example.of("Translate\n\nchat", "cat"));
    assertThat(ex.get(2)).isEqualTo(Example.of("Name a colour", "red"));
    assertThat(ex.get(3)).isEqualTo(Example.of("Name a fruit", "fig"));
    Example chat = ex.get(4);
    assertThat(chat.messages()).containsExactly(new Message("system", "Be brief."), new Message("user", "2+2?"),
        new Message("assistant", "4"), new Message("user", "and 3+3?"));
    assertThat(chat.response()).isEqualTo("6");
    assertThat(chat.promptText()).isEqualTo("and 3+3?");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"prompt\": \"a\", \"response\": |not valid JSON",
      "{\"prompt\": \"a\"}|missing key \"response\"",
      "{\"prompt\": 3, \"response\": \"b\"}|\"prompt\" must be a string",
      "{\"instruction\": \"a\", \"input\": 5, \"output\": \"b\"}|\"input\" must be a string",
      "{\"question\": \"a\", \"answer\": \"b\"}|no known keys",
      "[1, 2]|not a JSON object",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"user\", \"content\": \"b\"}]}|last message must be the assistant",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}|at least a user and an assistant",
      "{\"messages\": [{\"role\": \"user\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}|missing key \"content\"",
      "{\"messages\": [{\"role\": \"bot\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}|\"bot\" is not system, user or assistant",
  })
  void malformedLineNamesFileLineAndAcceptedShapes(String badLine, String what) throws Exception {
    Path f = file("{\"prompt\": \"a\", \"response\": \"b\"}", "", badLine, "{\"prompt\": \"c\", \"response\": \"d\"}");
    assertThatThrownBy(() -> JsonlDataset.read(f))
        .isInstanceOf(RlsrException.class)
        .hasMessageStartingWith(f + ":3: ")
        .hasMessageContaining(what)
        .hasMessageEndingWith("expected {\"prompt\",\"response\"}, {\"instruction\",\"input\",\"output\"} or {\"messages\":[...]}");
  }

  @Test
  void notUtf8NamesFileAndLine() throws Exception {
    Path f = tmp.resolve("latin1.jsonl");
    byte[] good = "{\"prompt\": \"a\", \"response\": \"b\"}\n".getBytes(StandardCharsets.UTF_8);
    byte[] bad = "{\"prompt\": \"caf\u00e9\", \"response\": \"b\"}\n".getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[good.length + bad.length];
    System.arraycopy(good, 0, all, 0, good.length);
    System.arraycopy(bad, 0, all, good.length, bad.length);
    Files.write(f, all);
    assertThatThrownBy(() -> JsonlDataset.read(f))
        .isInstanceOf(RlsrException.class)
        .hasMessageContaining(f + ":2:")
        .hasMessageContaining("UTF-8");
  }

  @Test
  void missingFileIsNamedAndEmptyFileIsEmpty() throws Exception {
    Path missing = tmp.resolve("nope.jsonl");
    assertThatThrownBy(() -> JsonlDataset.read(missing)).isInstanceOf(RlsrException.class)
        .hasMessageContaining(missing.toString());
    Path empty = Files.writeString(tmp.resolve("empty.jsonl"), "");
    assertThat(JsonlDataset.read(empty)).isEmpty();
    Path bom = Files.writeString(tmp.resolve("bom.jsonl"), "\uFEFF{\"prompt\": \"a\", \"response\": \"b\"}\r\n");
    assertThat(JsonlDataset.read(bom)).containsExactly(Example.of("a", "b"));
  }


  @ParameterizedTest
  @CsvSource({"alpaca-5k/train.jsonl", "alpaca-5k/eval.jsonl", "tiny/sft.jsonl"})
  void readsTheSharedInstructionData(String rel) throws Exception {
    Path f = SharedData.find(rel);
    assumeTrue(f != null && Files.isRegularFile(f), "shared/data/" + rel + " is absent");
    List<Example> ex = JsonlDataset.read(f);
    long nonBlank = Files.readAllLines(f).stream().filter(l -> !l.isBlank()).count();
    assertThat(ex).hasSize((int) nonBlank).isNotEmpty();
    assertThat(ex).allSatisfy(e -> assertThat(e.promptText()).isNotBlank());
  }
}
