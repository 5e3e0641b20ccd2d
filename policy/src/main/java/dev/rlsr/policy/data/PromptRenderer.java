// Renders a prompt's chat messages to the text the model sees: the model's Jinja chat template when its
// tokenizer has one (via jinjava, in rlsr's template sandbox), otherwise rlsr's plain instruction template.
package dev.rlsr.policy.data;

import dev.rlsr.policy.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * With a chat template, the template is rendered like transformers' {@code apply_chat_template} does it:
 * {@code trim_blocks} and {@code lstrip_blocks} on, variables {@code messages} (list of {role, content}),
 * {@code add_generation_prompt=true}, {@code bos_token}, {@code eos_token}, and a function
 * {@code raise_exception(msg)} that fails with an {@link dev.rlsr.policy.util.RlsrException}. The template renders in
 * a {@linkplain TemplateSandbox sandbox}: it sees only these values, loads nothing, and renders within
 * {@linkplain TemplateLimits limits}; breaking one, like any template error, is an RlsrException naming the source.
 *
 * <p>Without one, the {@linkplain #PLAIN_TURN plain template} is used: an optional leading system message as
 * {@code "{system}\n\n"}, each earlier user/assistant exchange as
 * {@code "### Instruction:\n{user}\n\n### Response:\n{assistant}\n\n"}, and the final user message as
 * {@code "### Instruction:\n{user}\n\n### Response:\n"}.
 */
public final class PromptRenderer {
  /** Plain template of the final user turn ({@code %s} = user content); the model's answer follows it. */
  public static final String PLAIN_TURN = "### Instruction:\n%s\n\n### Response:\n";
  /** Plain template of an earlier, answered exchange: {@link #PLAIN_TURN} + the assistant content + "\n\n". */
  public static final String PLAIN_ANSWER_SUFFIX = "\n\n";
  /** Plain template of a leading system message ({@code %s} = system content). */
  public static final String PLAIN_SYSTEM = "%s\n\n";

  private final String template;
  private final String bosToken;
  private final String eosToken;
  private final TemplateSandbox sandbox;

  /**
   * @param template a Jinja chat template, or null for the plain template
   * @param bosToken value of {@code bos_token} in the template ("" for none)
   * @param eosToken value of {@code eos_token} in the template ("" for none)
   * @param source   where the template came from, for error messages
   */
  public PromptRenderer(String template, String bosToken, String eosToken, String source) {
    this.template = template;
    this.bosToken = bosToken == null ? "" : bosToken;
    this.eosToken = eosToken == null ? "" : eosToken;
    this.sandbox = template == null ? null : new TemplateSandbox(template, source);
  }

  /** The renderer for a tokenizer: its chat template if it has one, else the plain template. */
  public static PromptRenderer forTokenizer(Tokenizer tok) {
    Optional<String> t = tok.chatTemplate();
    return new PromptRenderer(t.orElse(null), tok.bosToken(), tok.eosToken(),
        tok.modelDir().resolve(Tokenizer.TOKENIZER_CONFIG_JSON) + " (chat_template)");
  }

  /** The plain-template renderer (no chat template). */
  public static PromptRenderer plain() {
    return new PromptRenderer(null, "", "", "plain template");
  }

  public boolean usesChatTemplate() {
    return template != null;
  }

  /** The prompt text for these messages, ending where the assistant's answer begins. */
  public String render(List<Message> messages) {
    return template == null ? renderPlain(messages) : renderTemplate(messages);
  }

  private static String renderPlain(List<Message> messages) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      switch (m.role()) {
        case Message.SYSTEM -> sb.append(String.format(PLAIN_SYSTEM, m.content()));
        case Message.USER -> sb.append(String.format(PLAIN_TURN, m.content()));
        case Message.ASSISTANT -> sb.append(m.content()).append(PLAIN_ANSWER_SUFFIX);
        default -> throw new IllegalArgumentException("unknown role " + m.role());
      }
    }
    return sb.toString();
  }

  private String renderTemplate(List<Message> messages) {
    List<Map<String, Object>> msgs = new ArrayList<>();
    for (Message m : messages) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("role", m.role());
      o.put("content", m.content());
      msgs.add(o);
    }
    Map<String, Object> vars = new HashMap<>();
    vars.put("messages", msgs);
    vars.put("add_generation_prompt", true);
    vars.put("bos_token", bosToken);
    vars.put("eos_token", eosToken);
    long ownChars = 0;
    for (Message m : messages) {
      ownChars += m.content().length();
    }
    return sandbox.render(vars, ownChars);
  }
}
