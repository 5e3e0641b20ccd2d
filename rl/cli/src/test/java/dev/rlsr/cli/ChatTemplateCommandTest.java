package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.Message;
import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.data.SftTokenizer;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateCommandTest {
  static final Path DEMO_BASE = demoBase();
  static final Path QWEN3 = Path.of("/work/shared/tokenizers/qwen3");

  @TempDir Path tmp;

  /** models/demo-base of the checkout (tests run in a module directory below it). */
  static Path demoBase() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path d = dir.resolve("models/demo-base");
      if (Files.isDirectory(d)) {
        return d;
      }
    }
    return Path.of("models/demo-base");
  }

  private Path messages(String json) throws Exception {
    Path f = tmp.resolve("m.json");
    Files.writeString(f, json);
    return f;
  }

  private static int[] ids(JsonNode out) {
    int[] ids = new int[out.get("ids").size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = out.get("ids").get(i).asInt();
    }
    return ids;
  }

  @Test
  void plainTemplateOfTheDemoBaseWithItsIdsAsFed() throws Exception {
    assumeTrue(Files.isRegularFile(DEMO_BASE.resolve("tokenizer.json")), "models/demo-base absent");
    Path f = messages("[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}]");
    Cli.Run r = Cli.run("chat-template", "--model", DEMO_BASE.toString(), "--messages", f.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().strip().lines()).hasSize(1);
    JsonNode out = Json.MAPPER.readTree(r.out());
    assertThat(out.get("text").asText()).isEqualTo("Be brief.\n\n### Instruction:\nHi\n\n### Response:\n");
    Tokenizer tok = Tokenizer.load(DEMO_BASE);
    List<Message> msgs = List.of(new Message("system", "Be brief."), Message.user("Hi"));
    int[] expected = new SftTokenizer(tok, PromptRenderer.forTokenizer(tok), Integer.MAX_VALUE)
        .promptIds(new Example(msgs, ""));
    assertThat(ids(out)).containsExactly(expected);
  }

  @Test
  void qwen3ChatTemplateFromTheTokenizerFilesAlone() throws Exception {
    assumeTrue(Files.isRegularFile(QWEN3.resolve("tokenizer.json")), QWEN3 + " absent");
    Path f = messages("[{\"role\": \"user\", \"content\": \"What is 6*7?\"},"
        + " {\"role\": \"assistant\", \"content\": \"<think>\\nsix sevens\\n</think>\\n\\n42\"},"
        + " {\"role\": \"user\", \"content\": \"你好 😀\"}]");
    Cli.Run r = Cli.run("chat-template", "--model", QWEN3.toString(), "--messages", f.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode out = Json.MAPPER.readTree(r.out());
    assertThat(out.get("text").asText()).isEqualTo("<|im_start|>user\nWhat is 6*7?<|im_end|>\n"
        + "<|im_start|>assistant\n42<|im_end|>\n<|im_start|>user\n你好 😀<|im_end|>\n<|im_start|>assistant\n");
    Tokenizer tok = Tokenizer.load(QWEN3);
    assertThat(ids(out)).containsExactly(tok.encode(out.get("text").asText()));
    assertThat(ids(out)[0]).isEqualTo(tok.encode("<|im_start|>")[0]);
  }

  @Test
  void badMessageFilesAreOneErrorLineNamingTheFile() throws Exception {
    assumeTrue(Files.isRegularFile(DEMO_BASE.resolve("tokenizer.json")), "models/demo-base absent");
    String[][] cases = {
        {"[{\"role\": \"user\", \"content\": ", "not valid JSON"},
        {"{\"role\": \"user\", \"content\": \"x\"}", "expected a JSON array"},
        {"[{\"role\": \"bot\", \"content\": \"x\"}]", "message 0: \"role\""},
        {"[{\"role\": \"user\", \"content\": 3}]", "message 0: \"content\" must be a string"},
        {"[\"hi\"]", "message 0: expected an object"},
        {"[]", "no messages"},
    };
    for (String[] c : cases) {
      Path f = messages(c[0]);
      Cli.Run r = Cli.run("chat-template", "--model", DEMO_BASE.toString(), "--messages", f.toString());
      assertThat(r.code()).as(c[0]).isEqualTo(1);
      assertThat(r.err()).as(c[0]).startsWith("error: " + f + ": ").contains(c[1]);
    }
    Path missing = tmp.resolve("nope.json");
    Cli.Run r = Cli.run("chat-template", "--model", DEMO_BASE.toString(), "--messages", missing.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: " + missing + ": not found");
  }
}
