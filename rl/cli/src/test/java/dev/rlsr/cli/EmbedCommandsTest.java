// rlsr embed / reward / bench (help) through Main.commandLine() with captured output: JSON shape, order, errors.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.util.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbedCommandsTest {
  @TempDir Path tmp;

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void embedPrintsOneVectorPerTextInOrder() throws Exception {
    Path file = tmp.resolve("t.txt");
    Files.writeString(file, "a cat on a mat\n");
    Run r = run("embed", "--text", "a dog in the fog", "--file", file.toString(), "--text", "a cat on a mat");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = Json.MAPPER.readTree(r.out());
    assertThat(json.fieldNames()).toIterable().containsExactly("embeddings");
    JsonNode e = json.get("embeddings");
    assertThat(e).hasSize(3);
    assertThat(e.get(0)).hasSize(384);
    for (int j = 0; j < 384; j++) { // the file's text (trailing newline dropped) equals the third --text
      assertThat(e.get(1).get(j).floatValue()).isEqualTo(e.get(2).get(j).floatValue());
    }
    assertThat(e.get(0).get(0).floatValue()).isNotEqualTo(e.get(1).get(0).floatValue());
  }

  @Test
  void embedderPromptPutsTheSameTextBeforeEveryInput() throws Exception {
    Run prompted = run("embed", "--embedder-prompt", "Represent the answer: ", "--text", "a dog in the fog");
    Run literal = run("embed", "--text", "Represent the answer: a dog in the fog");
    Run plain = run("embed", "--text", "a dog in the fog");
    assertThat(prompted.code()).as(prompted.err()).isZero();
    assertThat(Json.MAPPER.readTree(prompted.out())).isEqualTo(Json.MAPPER.readTree(literal.out()));
    assertThat(Json.MAPPER.readTree(prompted.out())).isNotEqualTo(Json.MAPPER.readTree(plain.out()));
    // e5's named prompts: query is its default, passage another
    Run query = run("embed", "--embedder", "e5-small-v2", "--embedder-prompt", "query", "--text", "a dog");
    Run e5 = run("embed", "--embedder", "e5-small-v2", "--text", "a dog");
    Run passage = run("embed", "--embedder", "e5-small-v2", "--embedder-prompt", "passage", "--text", "a dog");
    assertThat(Json.MAPPER.readTree(query.out())).isEqualTo(Json.MAPPER.readTree(e5.out()));
    assertThat(Json.MAPPER.readTree(passage.out())).isNotEqualTo(Json.MAPPER.readTree(e5.out()));
  }

  @Test
  void rewardPrintsCosinesAgainstTheReference() throws Exception {
    Run r = run("reward", "--reference", "Paris is the capital of France.",
        "--candidate", "Paris is the capital of France.", "--candidate", "I like turtles.", "--candidate", "");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode rewards = Json.MAPPER.readTree(r.out()).get("rewards");
    assertThat(rewards).hasSize(3);
    assertThat(rewards.get(0).floatValue()).isGreaterThan(0.9999f);
    assertThat(rewards.get(1).floatValue()).isLessThan(0.5f);
    assertThat(rewards.get(2).floatValue()).isZero();
  }

  @Test
  void nonUtf8FileAndMissingEmbedderEndWithOneErrorLine() throws Exception {
    Path latin1 = tmp.resolve("latin1.txt");
    Files.write(latin1, "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));
    Run r = run("embed", "--file", latin1.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: ").contains("latin1.txt is not valid UTF-8");
    assertThat(r.out()).isEmpty();

    Run missing = run("reward", "--embedder", tmp.resolve("nope").toString(), "--reference", "x", "--candidate", "y");
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).startsWith("error: ").contains("neither a built-in encoder");
  }

  @Test
  void benchEmbedRejectsNonUtf8Data() throws Exception {
    Path data = tmp.resolve("data.jsonl");
    Files.write(data, "{\"response\": \"ok\"}\n{\"response\": \"caf\u00e9\"}\n".getBytes(StandardCharsets.ISO_8859_1));
    Run r = run("bench", "embed", "--data", data.toString(), "--json", tmp.resolve("b.json").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("data.jsonl is not valid UTF-8").contains("line 2");
  }

  @Test
  void benchEmbedReadsJsonLinesWithClearErrors() throws Exception {
    Path data = tmp.resolve("bad.jsonl");
    Files.writeString(data, "{\"response\": \"ok\"}\n{\"prompt\": \"no response\"}\n");
    Run r = run("bench", "embed", "--data", data.toString(), "--json", tmp.resolve("b.json").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("bad.jsonl line 2 has no string field \"response\"");
  }
}
