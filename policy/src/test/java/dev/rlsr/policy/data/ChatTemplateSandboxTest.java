// A hostile chat template gets no Java objects, files, classpath resources or network: the routes of
// CVE-2025-59340 / CVE-2026-25526 (the interpreter, its config, Jackson's ObjectMapper, getClass() chains), the
// loading tags, and unknown filters, tests and functions all end in a clear RlsrException naming the template.
package dev.rlsr.policy.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChatTemplateSandboxTest {
  static final String SOURCE = "/models/evil/tokenizer_config.json (chat_template)";
  static final Duration BOUND = Duration.ofSeconds(20);
  static final List<Message> MESSAGES = List.of(new Message("system", "S"), Message.user("hi"));
  /** Builds jinjava's interpreter name at run time, past the source scan. */
  static final String INTERPRETER = "messages['____int3' ~ 'rpr3t3r____']";

  @TempDir Path tmp;

  /** The render's outcome: its output, or the RlsrException it ended with (any other throwable fails the test). */
  static Object outcome(String template) {
    return assertTimeoutPreemptively(BOUND, () -> {
      try {
        return new PromptRenderer(template, "", "", SOURCE).render(MESSAGES);
      } catch (RlsrException e) {
        return e;
      }
    });
  }

  /** Asserts the template fails with an RlsrException naming the source and containing every fragment. */
  static RlsrException assertRefused(String template, String... fragments) {
    Object o = outcome(template);
    assertThat(o).as(template).isInstanceOf(RlsrException.class);
    RlsrException e = (RlsrException) o;
    assertThat(e.getMessage()).startsWith(SOURCE + ": ").contains(fragments).doesNotContain("\tat ");
    return e;
  }

  private Path secret() throws IOException {
    Path f = tmp.resolve("secret.txt");
    Files.writeString(f, "TOP-SECRET-7f3a");
    return f;
  }

  @Test
  void theInterpreterAndItsObjectMapperAreOutOfReach() throws IOException {
    String file = secret().toString();
    String url = secret().toUri().toString();
    List<String> attacks = List.of(
        "{{ ____int3rpr3t3r____ }}",
        "{{ ____int3rpr3t3r____.config }}",
        "{% set m = ____int3rpr3t3r____.config.objectMapper %}{{ m.readTree('" + url + "') }}",
        "{{ " + INTERPRETER + " }}",
        "{{ " + INTERPRETER + ".config }}",
        "{% set i = " + INTERPRETER + " %}{{ i.getConfig().getObjectMapper().readTree('" + url + "') }}",
        "{% set m = " + INTERPRETER + ".config.objectMapper %}{{ m.readValue('" + url + "', 'x'.class) }}",
        "{{ (messages|attr('____int3' ~ 'rpr3t3r____')).config }}",
        "{{ messages|map(attribute='____int3' ~ 'rpr3t3r____')|list }}",
        "{{ messages['filter:' ~ 'tojson'] }}",
        "{{ filter:tojson.filter(messages, none) }}",
        "{{ 'x'.getClass().forName('java.nio.file.Files').readString('" + file + "') }}",
        "{{ messages.getClass().getClassLoader().getResource('" + url + "').openStream() }}",
        "{{ messages[0].content.getBytes() }}",
        "{% set m = messages[0] %}{{ m.getClass().forName('java.lang.Runtime').getRuntime() }}");
    for (String attack : attacks) {
      RlsrException e = assertRefused(attack, "sandbox");
      assertThat(e.getMessage()).doesNotContain("TOP-SECRET");
    }
  }

  @Test
  void javaAttributesAreUndefinedNotObjects() throws IOException {
    secret();
    // Jinja2 renders unknown attributes as nothing; here no Java bean property is reachable either
    for (String t : List.of("{{ messages.class }}", "{{ 'x'.class }}", "{{ 'x'.bytes }}", "{{ messages[0].class }}",
        "{{ loop }}")) {
      assertThat(outcome(t)).as(t).isEqualTo("");
    }
  }

  @Test
  void noConnectionIsMade() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      server.setSoTimeout(200);
      AtomicInteger accepted = new AtomicInteger();
      Thread acceptor = new Thread(() -> {
        while (!server.isClosed()) {
          try (Socket s = server.accept()) {
            accepted.incrementAndGet();
          } catch (SocketTimeoutException e) {
            // keep listening
          } catch (IOException e) {
            return;
          }
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      String url = "http://127.0.0.1:" + server.getLocalPort() + "/x";
      for (String attack : List.of(
          "{% include '" + url + "' %}",
          "{% import '" + url + "' as x %}",
          "{% set m = " + INTERPRETER + ".config.objectMapper %}{{ m.readTree('" + url + "') }}",
          "{% set u = 'x'.getClass().forName('java.net.URL') %}{{ u.getConstructor('x'.class).newInstance('" + url
              + "').openStream() }}",
          "{{ ('" + url + "'|urlize) ~ ('" + url + "'|urlencode) }}",
          "{{ '" + url + "'|fromjson }}")) {
        outcome(attack);
      }
      Thread.sleep(300);
      assertThat(accepted.get()).isZero();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"{% include 'META-INF/MANIFEST.MF' %}", "{%- include \"dev/rlsr/policy/data/x.j2\" -%}",
      "{%Include'META-INF/MANIFEST.MF'%}",
      "{% import 'macros.j2' as m %}{{ m.f() }}", "{% from 'macros.j2' import f %}", "{% extends 'base.j2' %}"})
  void loadingTagsAreRefused(String template) {
    String tag = template.replaceAll("^\\{%-?\\s*(\\w+).*$", "$1").toLowerCase(java.util.Locale.ROOT);
    assertRefused(template, "{% " + tag + " %}", "sandbox without file, classpath or network access");
  }

  @Test
  void unknownFiltersTestsAndFunctionsAreNamed() {
    assertRefused("{{ messages[0].content|nosuchfilter }}", "unknown filter 'nosuchfilter'");
    assertRefused("{{ messages[0].content|trim|upper|nosuchfilter(1) }}", "unknown filter 'nosuchfilter'");
    assertRefused("{{ messages|map('nosuchfilter')|list }}", "unknown filter 'nosuchfilter'");
    assertRefused("{% if messages[0] is nosuchtest %}x{% endif %}", "unknown test 'nosuchtest'");
    assertRefused("{{ nosuchfunction(1) }}", "nosuchfunction");
    assertRefused("{% nosuchtag %}", "Unknown tag: nosuchtag");
    // jinjava extras that Jinja2 lacks, some of which reach beyond the template: not offered
    assertRefused("{{ '{{ 1 }}'|render }}", "filter 'render'", "does not offer");
    assertRefused("{{ '[1]'|fromjson }}", "filter 'fromjson'", "does not offer");
    assertRefused("{{ messages|pprint }}", "filter 'pprint'", "does not offer");
    assertRefused("{{ messages|map('render')|list }}", "filter 'render'", "does not offer");
    assertRefused("{{ unixtimestamp() }}", "'unixtimestamp'", "does not offer");
  }

  @Test
  void onlyPythonMethodsOfDataAreCallable() {
    assertRefused("{{ messages[0].content.toUpperCase() }}", "toUpperCase() on a str",
        "str methods offered:");
    assertRefused("{{ messages[0].entrySet() }}", "entrySet() on a dict", "dict methods offered:");
    assertRefused("{{ messages.stream() }}", "stream() on a list", "list methods offered:");
    assertRefused("{% for m in messages %}{{ loop.getClass() }}{% endfor %}", "getClass() on a Java object");
  }

  @Test
  void refusalIsNotLeftBehind() {
    // a refused render leaves nothing on the pooled render thread that a later, ordinary render could inherit
    assertRefused("{{ messages.getClass() }}", "getClass()");
    assertThat(outcome("{% for m in messages %}[{{ m.content }}]{% endfor %}")).isEqualTo("[S][hi]");
  }

  @Test
  void errorsNameTheLineAndNoStackTrace() {
    Throwable t = catchThrowable(() -> new PromptRenderer("a\nb\n{{ messages.getClass() }}", "", "", SOURCE)
        .render(MESSAGES));
    assertThat(t).isInstanceOf(RlsrException.class).hasMessageContaining("template line 3");
  }
}
