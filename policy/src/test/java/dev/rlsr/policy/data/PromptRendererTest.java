// Chat-template rendering through jinjava (ChatML, Qwen2's default-system template, raise_exception,
// trim/lstrip blocks, bos_token, the Python idioms of real templates, as Jinja2 renders them) and the plain template.
package dev.rlsr.policy.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rlsr.policy.testing.TinyCheckpoints;
import dev.rlsr.policy.util.RlsrException;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
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

  private static final List<Message> THINKING = List.of(new Message("system", " Be brief. "), Message.user("hi there"),
      new Message("assistant", "<think>\nplan\n</think>\n\nyo"));

  /** Python idioms of real templates; the expected text is what Jinja2 3.1.6 renders, set up as transformers does. */
  @Test
  void pythonSlicesMethodsNamespaceAndTojsonAsJinja2RendersThem() {
    String t = String.join("\n",
      "{%- set ns = namespace(n=0, last=messages|length - 1, roles=[]) %}",
      "{%- for m in messages[::-1] %}{% set ns.n = ns.n + 1 %}{% endfor %}",
      "{{- ns.n }}/{{ ns.last }}|",
      "{%- for m in messages[::2] %}{{ m.role[0] }}{% endfor %}|",
      "{%- for m in messages[-2:] %}{{ m.content[:3] }};{% endfor %}|",
      "{%- set c = messages[-1].content %}",
      "{{- c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}|",
      "{{- 'T' if c.startswith('<think>') else 'F' }}{{ 'T' if c.endswith(('x', 'yo')) else 'F' }}{{ 'a b  c'.split()|length }}{{ 'a,b,c'.rsplit(',', 1)[0] }}|",
      "{{- '=' * 3 }}{{ ('ab' ~ 'c').upper() }}{{ 'Hello World'.lower().replace('o', '0') }}{{ ' x '.strip() }}|",
      "{%- set d = {'name': 'f', 'args': {'a': 1, 'b': [True, None, 2.5, 'é\"\\n']}} %}",
      "{{- d|tojson }}|{{ d.args|tojson(indent=2) }}|",
      "{%- for k, v in d.args.items() %}{{ k }}{% endfor %}{{ d.keys()|list|length }}{{ d.get('nope', 'dflt') }}|",
      "{%- for m in messages %}{% set ns.roles = ns.roles + [m.role] %}{% endfor %}{{ ns.roles|join(',') }}|",
      "{%- for i in range(1, 10, 4) %}{{ i }}{% endfor %}{% if 'x' in 'xyz' and 'role' in messages[0] %}!{% endif %}");
    PromptRenderer r = new PromptRenderer(t, "", "", "test");
    assertThat(r.render(THINKING)).isEqualTo("3/2|sa|hi ;<th;|yo|plan|TT3a,b|===ABChell0 w0rldx|{\"name\": \"f\", "
        + "\"args\": {\"a\": 1, \"b\": [true, null, 2.5, \"é\\\"\\n\"]}}|{\n  \"a\": 1,\n  \"b\": [\n    true,\n"
        + "    null,\n    2.5,\n    \"é\\\"\\n\"\n  ]\n}|ab2dflt|system,user,assistant|159!");
  }

  /** Shaped like Llama 3's template: strftime_now is defined (as in transformers), messages[1:], |trim, "in" a dict. */
  @Test
  void llama3StyleTemplateWithTodaysDate() {
    String t = String.join("\n",
        "{{- bos_token }}",
        "{%- if not date_string is defined %}",
        "    {%- if strftime_now is defined %}",
        "        {%- set date_string = strftime_now(\"%d %b %Y\") %}",
        "    {%- else %}",
        "        {%- set date_string = \"26 Jul 2024\" %}",
        "    {%- endif %}",
        "{%- endif %}",
        "{%- if messages[0]['role'] == 'system' %}",
        "    {%- set system_message = messages[0]['content']|trim %}",
        "    {%- set messages = messages[1:] %}",
        "{%- else %}",
        "    {%- set system_message = \"\" %}",
        "{%- endif %}",
        "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}",
        "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}",
        "{{- system_message }}",
        "{{- \"<|eot_id|>\" }}",
        "{%- for message in messages %}",
        "    {%- if not (message.role == 'tool' or 'tool_calls' in message) %}",
        "        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim"
            + " + '<|eot_id|>' }}",
        "    {%- endif %}",
        "{%- endfor %}",
        "{%- if add_generation_prompt %}",
        "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}",
        "{%- endif %}");
    String today = LocalDate.now().format(DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH));
    PromptRenderer r = new PromptRenderer(t, "<|begin_of_text|>", "<|eot_id|>", "test");
    assertThat(r.render(THINKING)).isEqualTo("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
        + "Today Date: " + today + "\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nhi there"
        + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<think>\nplan\n</think>\n\nyo<|eot_id|>"
        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
  }

  @Test
  void valuesCannotBeModifiedAsInTransformersSandbox() {
    PromptRenderer r = new PromptRenderer("{% set l = [] %}{% set _ = l.append(1) %}", "", "", "src");
    assertThatThrownBy(() -> r.render(MULTI)).isInstanceOf(RlsrException.class).hasMessageContaining("src")
        .hasMessageContaining("append() on a list").hasMessageContaining("cannot modify values");
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
