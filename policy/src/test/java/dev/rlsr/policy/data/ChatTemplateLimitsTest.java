// A hostile chat template can neither crash nor hang the process: deep nesting, strings and lists that double,
// huge widths, nested loops and runaway recursion each end, in bounded time, with an RlsrException naming the
// template and the limit it hit.
package dev.rlsr.policy.data;

import static dev.rlsr.policy.data.ChatTemplateSandboxTest.assertRefused;
import static dev.rlsr.policy.data.ChatTemplateSandboxTest.outcome;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChatTemplateLimitsTest {
  private static String nestedIfs(int n) {
    return "{% if true %}".repeat(n) + "x" + "{% endif %}".repeat(n);
  }

  private static String nestedParens(int n) {
    return "{{ " + "(".repeat(n) + "1" + ")".repeat(n) + " }}";
  }

  @Test
  void nestingIsBoundedBeforeParsing() {
    assertThat(outcome(nestedIfs(TemplateLimits.MAX_NESTING))).isEqualTo("x");
    assertThat(outcome(nestedParens(TemplateLimits.MAX_NESTING))).isEqualTo("1");
    assertRefused(nestedIfs(5_000), "nests blocks deeper than 64", "template line 1");
    assertRefused(nestedIfs(5_000).replace("if", "IF"), "nests blocks deeper than 64"); // jinjava ignores case
    assertRefused("{% for m in messages %}\n".repeat(100) + "{% endfor %}".repeat(100), "nests blocks deeper than 64",
        "template line 65");
    assertRefused(nestedParens(2_000), "nests brackets deeper than 64");
    assertRefused(nestedParens(20_000), "nests brackets deeper than 64");
    assertRefused("{{ " + "[".repeat(3_000) + "]".repeat(3_000) + " }}", "nests brackets deeper than 64");
    assertRefused("{% set x = " + "(".repeat(3_000) + "1" + ")".repeat(3_000) + " %}", "nests brackets deeper than 64");
    // stray end tags do not lower the count
    assertRefused(("{% if true %}{% endfor %}").repeat(100) + "{% endif %}".repeat(100), "nests blocks deeper");
    // strings and raw blocks are not code
    assertThat(outcome("{{ '" + "(".repeat(500) + "' }}{% raw %}" + "{% if %}".repeat(500) + "{% endraw %}"))
        .isEqualTo("(".repeat(500) + "{% if %}".repeat(500));
  }

  @Test
  void deepExpressionsWithoutBracketsEndInAClearError() {
    // flat in brackets, deep in jinjava's tree: refused on the source, before the parser could overflow its stack
    assertRefused("{{ " + "not ".repeat(60_000) + "true }}", "more than 1000 operators and filters in one tag");
    assertRefused("{{ 'a'" + "|trim".repeat(50_000) + " }}", "more than 1000 operators and filters in one tag");
    assertRefused("{% if " + "x or ".repeat(5_000) + "y %}z{% endif %}", "more than 1000 operators");
    assertRefused("x".repeat(TemplateLimits.MAX_TEMPLATE_CHARS + 1), "characters, more than the 262144");
  }

  @Test
  void doublingStringsHitTheSizeLimit() {
    for (String step : List.of("s ~ s", "s + s", "s * 2", "[s, s]|join", "s|replace('a', 'aa') ~ s", "s ~ s|upper",
        "(s ~ s)|trim", "s.join(['', '', ''])")) {
      assertRefused("{% set s = 'ab' %}{% for i in range(40) %}{% set s = " + step + " %}{% endfor %}{{ s|length }}",
          "size limit");
    }
    assertRefused("{{ 'ab' * 1000000000 }}", "string and output size limit");
    assertRefused("{{ 'a'|center(2000000000) }}", "width of 2000000000", "width limit");
    assertRefused("{{ 'a'|indent(2000000000) }}", "width of 2000000000");
    assertRefused("{{ '%2000000000d'|format(1) }}", "width beyond the 100000 allowed (width limit)");
    assertRefused("{{ 'a'.replace('', 'x' * 1000000) }}", "string and output size limit");
  }

  @Test
  void doublingListsHitTheCollectionLimit() {
    assertRefused("{% set l = ['ab'] %}{% for i in range(40) %}{% set l = l + l %}{% endfor %}", "collection size limit");
    assertRefused("{% set l = ['ab'] * 1000000000 %}", "collection size limit");
    // 100,000 references to one 1 MB string are cheap to build but 100 GB as a string (l ~ '', l|upper, ...)
    assertRefused("{% set l = ['x' * 1000000] * 100000 %}{{ l ~ '' }}", "list or dict holding more than");
    assertRefused("{% set s = 'x' * 1000000 %}{{ [s, s, s]|length }}", "list or dict holding more than");
    assertRefused("{% set s = 'x' * 1000000 %}{{ {'a': s, 'b': s}|length }}", "list or dict holding more than");
    assertRefused("{% set s = 'x' * 700000 %}{{ ([s] + [s])|length }}", "list or dict holding more than");
  }

  @Test
  void nestedLoopsHitTheStepOrTimeLimit() {
    String six = "{% for a in range(100) %}".repeat(6) + "x" + "{% endfor %}".repeat(6);
    // about 340 ms to the million steps on an idle core; on a machine loaded many times over the 5 s clock can end it
    // first, which is the same bounded refusal
    assertThat(assertRefused(six, "chat template stopped").getMessage()).containsAnyOf("steps (loop limit)",
        "5000 ms (time limit)");
    assertRefused("{{ range(1000000000)|length }}", "range() for 1000000000 numbers", "collection size limit");
    assertRefused("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
        "limit");
    assertRefused("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "recursion limit of 64");
  }

  @Test
  void loopsWithoutOutputHitTheTimeLimitAndLeaveNoBusyOrNonDaemonThread() throws InterruptedException {
    // empty loop bodies render few nodes, so time, not steps, ends this one
    assertRefused("{% for a in range(100) %}".repeat(6) + "{% endfor %}".repeat(6), "5000 ms (time limit)");
    long deadline = System.nanoTime() + 3_000_000_000L;
    while (System.nanoTime() < deadline && !busyRenderThreads().isEmpty()) {
      Thread.sleep(50);
    }
    assertThat(busyRenderThreads()).isEmpty();
    assertThat(Thread.getAllStackTraces().keySet()).filteredOn(t -> t.getName().equals("rlsr-chat-template"))
        .allMatch(Thread::isDaemon);
  }

  /** Render threads still rendering (an idle pooled one waits for work). */
  private static List<Thread> busyRenderThreads() {
    return Thread.getAllStackTraces().entrySet().stream()
        .filter(e -> e.getKey().getName().equals("rlsr-chat-template"))
        .filter(e -> java.util.Arrays.stream(e.getValue()).anyMatch(f -> f.getClassName().startsWith("com.hubspot")))
        .map(Map.Entry::getKey).toList();
  }
}
