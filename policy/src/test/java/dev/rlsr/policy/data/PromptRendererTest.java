// Chat-template rendering through jinjava (ChatML, Qwen2's default-system template, raise_exception,
// trim/lstrip blocks, bos_token) and the plain template.
package dev.rlsr.policy.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RlsrException;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptRendererTest {
  private static final List<Message> MULTI = List.of(new Message("system", "Be brief."), Message.user("2+2?"),
      new Message("assistant", "4"), Message.user("3+3?"));

  /** The chat template Qwen2-Instruct ships (without tools): a default system message when none is given. */
  private static final String QWEN2_TEMPLATE = "{% for message in messages %}{% if loop.first and messages[0]['role']"
      + " != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
      + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
      + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  @Test
  void chatMlTemplate() {
    PromptRenderer r = new PromptRenderer(TinyCheckpoints.CHATML_TEMPLATE, "", "<|im_end|>", "test");
    assertThat(r.usesChatTemplate()).isTrue();
    assertThat(r.render(MULTI)).isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
        + "<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\n3+3?<|im_end|>\n<|im_start|>assistant\n");
  }

  @Test
  void qwen2TemplateAddsItsDefaultSystemMessage() {
    PromptRenderer r = new PromptRenderer(QWEN2_TEMPLATE, "", "<|im_end|>", "test");
    assertThat(r.render(List.of(Message.user("Hi")))).isEqualTo("<|im_start|>system\nYou are a helpful assistant."
        + "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    assertThat(r.render(List.of(new Message("system", "S"), Message.user("Hi"))))
        .startsWith("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n");
  }

  /** Shaped like Qwen2.5-Instruct's template: whitespace control, attribute access, a tools branch unused here. */
  private static final String QWEN25_STYLE = String.join("\n",
      "{%- if tools %}",
      "    {{- '<|im_start|>system\\n# Tools<|im_end|>\\n' }}",
      "{%- else %}",
      "    {%- if messages[0]['role'] == 'system' %}",
      "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}",
      "    {%- else %}",
      "        {{- '<|im_start|>system\\nYou are Qwen.<|im_end|>\\n' }}",
      "    {%- endif %}",
      "{%- endif %}",
      "{%- for message in messages %}",
      "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first)"
          + " or (message.role == \"assistant\" and not message.tool_calls) %}",
      "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}",
      "    {%- endif %}",
      "{%- endfor %}",
      "{%- if add_generation_prompt %}",
      "    {{- '<|im_start|>assistant\\n' }}",
      "{%- endif %}",
      "");

  @Test
  void qwen25StyleTemplateWithWhitespaceControl() {
    PromptRenderer r = new PromptRenderer(QWEN25_STYLE, "", "<|im_end|>", "test");
    assertThat(r.render(List.of(Message.user("Hi")))).isEqualTo(
        "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    assertThat(r.render(MULTI)).isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
        + "<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\n3+3?<|im_end|>\n<|im_start|>assistant\n");
  }

  @Test
  void pythonIdiomsCommonInChatTemplates() {
    // slicing, |trim, str.strip(), `is defined`, loop.last, `in`, string multiplication-free concatenation with ~
    String t = "{% set rest = messages[1:] if messages[0]['role'] == 'system' else messages %}"
        + "{% if system is not defined %}{% set system = messages[0]['content'] | trim %}{% endif %}"
        + "<{{ system }}>{% for m in rest %}{{ m['content'].strip() ~ ('|' if not loop.last else '') }}{% endfor %}"
        + "{% if 'assistant' in rest | map(attribute='role') | list %}!{% endif %}";
    PromptRenderer r = new PromptRenderer(t, "", "", "test");
    assertThat(r.render(List.of(new Message("system", " S "), Message.user(" a "), new Message("assistant", "b"),
        Message.user("c")))).isEqualTo("<S>a|b|c!");
  }

  @Test
  void trimAndLstripBlocksAndBosTokenLikeTransformers() {
    String t = "{{ bos_token }}\n{% for m in messages %}\n  {% if m.role == 'user' %}\nU: {{ m.content }}\n"
        + "  {% endif %}\n{% endfor %}\n{% if add_generation_prompt %}A:{% endif %}";
    PromptRenderer r = new PromptRenderer(t, "<s>", "</s>", "test");
    assertThat(r.render(List.of(Message.user("x"), new Message("assistant", "y"), Message.user("z"))))
        .isEqualTo("<s>\nU: x\nU: z\nA:");
  }

  @Test
  void raiseExceptionBecomesAnRlsrExceptionNamingTheSource() {
    String t = "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
        + "{% endif %}{% for m in messages %}[{{ m['content'] }}]{% endfor %}";
    PromptRenderer r = new PromptRenderer(t, "", "", "/m/tokenizer_config.json (chat_template)");
    assertThat(r.render(List.of(Message.user("ok")))).isEqualTo("[ok]");
    assertThatThrownBy(() -> r.render(MULTI))
        .isInstanceOf(RlsrException.class)
        .hasMessageContaining("/m/tokenizer_config.json (chat_template)")
        .hasMessageContaining("System role not supported");
  }

  @Test
  void brokenTemplateIsReported() {
    PromptRenderer r = new PromptRenderer("{% for m in messages %}{{ m.content }}", "", "", "src");
    assertThatThrownBy(() -> r.render(List.of(Message.user("a")))).isInstanceOf(RlsrException.class)
        .hasMessageContaining("src");
  }

  @Test
  void plainTemplate() {
    PromptRenderer r = PromptRenderer.plain();
    assertThat(r.usesChatTemplate()).isFalse();
    assertThat(r.render(List.of(Message.user("Name a colour."))))
        .isEqualTo("### Instruction:\nName a colour.\n\n### Response:\n");
    assertThat(r.render(MULTI)).isEqualTo("Be brief.\n\n### Instruction:\n2+2?\n\n### Response:\n4\n\n"
        + "### Instruction:\n3+3?\n\n### Response:\n");
  }
}
