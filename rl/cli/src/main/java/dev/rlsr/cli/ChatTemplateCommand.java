// `rlsr chat-template`: the prompt of a conversation as training and generation render and encode it, as one JSON line
// {"text": ..., "ids": [...]}. Loads only the model's tokenizer files (tokenizer.json, tokenizer_config.json, ...).
package dev.rlsr.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.data.Example;
import dev.rlsr.policy.data.Message;
import dev.rlsr.policy.data.PromptRenderer;
import dev.rlsr.policy.data.SftTokenizer;
import dev.rlsr.policy.tokenizer.Tokenizer;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "chat-template", mixinStandardHelpOptions = true,
    description = "Print the prompt of a conversation exactly as training and generation render it (the model's chat"
        + " template with add_generation_prompt=True, or the plain template) and its token ids as fed (BOS included),"
        + " as one JSON line {\"text\": ..., \"ids\": [...]}. Needs only the tokenizer files of --model.")
final class ChatTemplateCommand implements Callable<Integer> {
  private static final Set<String> ROLES = Set.of(Message.SYSTEM, Message.USER, Message.ASSISTANT);

  @Spec CommandSpec spec;

  @Option(names = "--model", paramLabel = "DIR", required = true,
      description = "Model directory (its tokenizer.json, tokenizer_config.json and, if present, config.json and"
          + " generation_config.json are read; weights are not).")
  Path model;

  @Option(names = "--messages", paramLabel = "FILE", required = true,
      description = "JSON array of {\"role\": \"system\"|\"user\"|\"assistant\", \"content\": STRING}, ending with a"
          + " user message.")
  Path messages;

  @Override
  public Integer call() throws Exception {
    List<Message> msgs = readMessages(messages);
    Tokenizer tok = Tokenizer.load(model);
    PromptRenderer renderer = PromptRenderer.forTokenizer(tok);
    String text = renderer.render(msgs);
    int[] ids = new SftTokenizer(tok, renderer, Integer.MAX_VALUE).promptIds(new Example(msgs, ""));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("text", text);
    out.put("ids", ids);
    spec.commandLine().getOut().println(Json.MAPPER.writeValueAsString(out));
    spec.commandLine().getOut().flush();
    return 0;
  }

  static List<Message> readMessages(Path file) {
    String raw;
    try {
      raw = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new RlsrException(file + ": not found");
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot read: " + e.getMessage());
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(raw);
    } catch (JsonProcessingException e) {
      throw new RlsrException(file + ": not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isArray()) {
      throw new RlsrException(file + ": expected a JSON array of {\"role\", \"content\"} messages");
    }
    if (root.isEmpty()) {
      throw new RlsrException(file + ": no messages");
    }
    List<Message> out = new ArrayList<>();
    for (int i = 0; i < root.size(); i++) {
      JsonNode m = root.get(i);
      String at = file + ": message " + i + ": ";
      if (!m.isObject()) {
        throw new RlsrException(at + "expected an object {\"role\", \"content\"}");
      }
      JsonNode role = m.get("role");
      JsonNode content = m.get("content");
      if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
        throw new RlsrException(at + "\"role\" must be \"system\", \"user\" or \"assistant\"");
      }
      if (content == null || !content.isTextual()) {
        throw new RlsrException(at + "\"content\" must be a string");
      }
      out.add(new Message(role.asText(), content.asText()));
    }
    if (!out.get(out.size() - 1).role().equals(Message.USER)) {
      throw new RlsrException(file + ": the last message must be a user message (the prompt ends where the"
          + " assistant's answer begins)");
    }
    return out;
  }
}
