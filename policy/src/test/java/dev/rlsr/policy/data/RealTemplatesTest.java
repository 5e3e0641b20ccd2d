package dev.rlsr.policy.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rlsr.policy.util.RlsrException;
import java.io.InputStream;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The published chat templates of real model families (src/test/resources/templates/*.json, made by
 * scripts/template-fixtures.mjs with @huggingface/jinja, which renders as transformers' apply_chat_template does) render
 * byte-identically in PromptRenderer, and their refusals are RlsrExceptions carrying the template's own message.
 */
class RealTemplatesTest {
  static final List<String> FAMILIES =
      List.of("qwen2_5", "qwen3", "llama3", "llama3_2", "gemma3", "mistral_nemo", "deepseek_v3", "phi3", "smollm2");
  private static Clock saved;

  @BeforeAll
  static void pinClock() {
    saved = SandboxLibrary.clock;
  }

  @AfterAll
  static void restoreClock() {
    SandboxLibrary.clock = saved;
  }

  @TestFactory
  Stream<DynamicTest> fixtures() throws Exception {
    ObjectMapper om = new ObjectMapper();
    List<DynamicTest> tests = new ArrayList<>();
    for (String family : FAMILIES) {
      JsonNode fx;
      try (InputStream in = getClass().getResourceAsStream("/templates/" + family + ".json")) {
        fx = om.readTree(in);
      }
      String source = "fixture " + family;
      PromptRenderer r = new PromptRenderer(fx.get("template").asText(), fx.get("bos_token").asText(),
          fx.get("eos_token").asText(), source);
      Clock fixed = Clock.fixed(LocalDate.parse(fx.get("fixed_date").asText()).atTime(12, 0).toInstant(ZoneOffset.UTC),
          ZoneOffset.UTC);
      for (JsonNode c : fx.get("cases")) {
        List<Message> msgs = new ArrayList<>();
        for (JsonNode m : c.get("messages")) {
          msgs.add(new Message(m.get("role").asText(), m.get("content").asText()));
        }
        tests.add(DynamicTest.dynamicTest(family + " / " + c.get("name").asText(), () -> {
          SandboxLibrary.clock = fixed;
          if (c.has("expected")) {
            assertEquals(c.get("expected").asText(), r.render(msgs));
          } else {
            RlsrException e = assertThrows(RlsrException.class, () -> r.render(msgs));
            assertTrue(e.getMessage().startsWith(source + ":"), e.getMessage());
            assertTrue(e.getMessage().contains(c.get("error").asText()), e.getMessage());
          }
        }));
      }
    }
    return tests.stream();
  }

  /** Jinja2 constructs of real templates beyond the fixtures: printing as Python, and/or operands, generation. */
  @org.junit.jupiter.api.Test
  void jinja2SemanticsTheFamiliesUse() {
    String t = "{{ true }}|{{ [1, none, 'a', true, \"it's\"] }}|{{ {'k': 'v', 'n': none} }}|{{ '' and 'x' }}|"
        + "{{ 'a' or 'b' }}|{{ none or 'z' }}|{% set d = {'a': {'b': 1}} %}{{ d }}|"
        + "{% if not add_generation_prompt is defined %}undefined{% else %}defined{% endif %}|"
        + "{% for m in messages %}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex0 }}{% endfor %}|"
        + "{% generation %}{{ messages[0].content }}{% endgeneration %}|{{ tools is none }}{{ tools }}";
    assertEquals("True|[1, None, 'a', True, \"it's\"]|{'k': 'v', 'n': None}||a|z|{'a': {'b': 1}}|defined|"
        + "TrueTrue10|hi|True", new PromptRenderer(t, "", "", "t").render(List.of(Message.user("hi"))));
  }
}
