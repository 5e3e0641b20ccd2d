// Checks a chat template's source before jinjava parses it: its size, the nesting depth of its blocks and of the
// brackets in its tags and expressions, and the tags that would load other files (include, import, from, extends).
package dev.rlsr.policy.data;

import com.hubspot.jinjava.el.ext.ExtendedParser;
import dev.rlsr.policy.util.RlsrException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

final class TemplateScan {
  private TemplateScan() {}

  /** Tags that open a block closed by end + name. ({@code set} opens one only without "=".) */
  private static final Set<String> BLOCK_TAGS = Set.of("if", "for", "macro", "call", "filter", "block", "autoescape",
      "unless", "ifchanged", "with", "trans", "generation");
  /** Tags that load other templates: refused, as chat templates are self-contained. */
  static final Set<String> LOADING_TAGS = Set.of("include", "import", "from", "extends");
  private static final Pattern TAG_NAME = Pattern.compile("^[-+]?\\s*([A-Za-z_][A-Za-z0-9_]*)");
  private static final Pattern ENDRAW = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%\\}");
  /** An assignment "=" (not part of ==, !=, <=, >=). */
  private static final Pattern ASSIGN = Pattern.compile("(?<![=!<>])=(?!=)");

  /** Throws an RlsrException naming the source when the template breaks a limit or uses a refused tag. */
  static void check(String template, String source) {
    if (template.length() > TemplateLimits.MAX_TEMPLATE_CHARS) {
      throw new RlsrException(source + ": the chat template has " + template.length() + " characters, more than the "
          + TemplateLimits.MAX_TEMPLATE_CHARS + " rlsr renders");
    }
    if (template.contains("int3rpr3t3r")) {
      throw new RlsrException(source + ": the chat template names jinjava's internal '" + ExtendedParser.INTERPRETER
          + "', which rlsr's template sandbox refuses");
    }
    Deque<String> blocks = new ArrayDeque<>();
    int n = template.length();
    int line = 1;
    int i = 0;
    while (i < n) {
      char c = template.charAt(i);
      if (c == '\n') {
        line++;
        i++;
        continue;
      }
      if (c != '{' || i + 1 >= n) {
        i++;
        continue;
      }
      char d = template.charAt(i + 1);
      if (d == '#') {
        int end = template.indexOf("#}", i + 2);
        end = end < 0 ? n : end + 2;
        line += lines(template, i, end);
        i = end;
      } else if (d == '%' || d == '{') {
        int start = i + 2;
        int end = scanCode(template, start, d == '%' ? '%' : '}', source, line);
        String code = template.substring(start, Math.min(end, n));
        if (d == '%') {
          Matcher m = TAG_NAME.matcher(code);
          String name = m.find() ? m.group(1).toLowerCase(Locale.ROOT) : ""; // jinjava's tag names ignore case
          if (LOADING_TAGS.contains(name)) {
            throw new RlsrException(source + ": the chat template uses {% " + name + " %} at template line " + line
                + ", which rlsr refuses: chat templates render in a sandbox without file, classpath or network access");
          }
          if (name.equals("raw")) {
            Matcher endRaw = ENDRAW.matcher(template);
            int after = endRaw.find(end) ? endRaw.end() : n;
            line += lines(template, i, after);
            i = after;
            continue;
          }
          if (BLOCK_TAGS.contains(name) || (name.equals("set") && !ASSIGN.matcher(code).find())) {
            blocks.push(name);
            if (blocks.size() > TemplateLimits.MAX_NESTING) {
              throw new RlsrException(source + ": the chat template nests blocks deeper than "
                  + TemplateLimits.MAX_NESTING + " (at template line " + line + ")");
            }
          } else if (name.startsWith("end") && blocks.contains(name.substring(3))) {
            // like jinjava's parser: an end tag closes its block and any still open inside it
            while (!blocks.pop().equals(name.substring(3))) {
              // closes the inner one
            }
          }
        }
        int after = Math.min(n, end + 2);
        line += lines(template, i, after);
        i = after;
      } else {
        i++;
      }
    }
  }

  /**
   * The index of the closing "%}" or "}}" of the tag or expression starting at {@code from}, skipping string literals;
   * fails when brackets nest deeper than the limit.
   */
  private static int scanCode(String t, int from, char close, String source, int line) {
    int depth = 0;
    int operators = 0;
    int n = t.length();
    for (int i = from; i < n; i++) {
      char c = t.charAt(i);
      if (isOperatorAt(t, i) && ++operators > TemplateLimits.MAX_OPERATORS) {
        throw new RlsrException(source + ": the chat template has more than " + TemplateLimits.MAX_OPERATORS
            + " operators and filters in one tag or expression (at template line " + (line + lines(t, from, i))
            + "); its parse tree would nest too deeply to render");
      }
      if (c == '\'' || c == '"') {
        i++;
        while (i < n && t.charAt(i) != c) {
          if (t.charAt(i) == '\\') {
            i++;
          }
          i++;
        }
      } else if (c == '(' || c == '[' || c == '{') {
        depth++;
        if (depth > TemplateLimits.MAX_NESTING) {
          throw new RlsrException(source + ": the chat template nests brackets deeper than "
              + TemplateLimits.MAX_NESTING + " (at template line " + (line + lines(t, from, i)) + ")");
        }
      } else if (depth == 0 && c == close && i + 1 < n && t.charAt(i + 1) == '}') {
        return i;
      } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
        depth--;
      }
    }
    return n;
  }

  /** An operator symbol, a filter bar, or one of the keywords not/and/or starting at {@code i} (outside strings). */
  private static boolean isOperatorAt(String t, int i) {
    char c = t.charAt(i);
    if ("|+-*/%~<>=!".indexOf(c) >= 0) {
      return true;
    }
    if (c != 'n' && c != 'a' && c != 'o' || i > 0 && Character.isJavaIdentifierPart(t.charAt(i - 1))) {
      return false;
    }
    for (String w : new String[] {"not", "and", "or"}) {
      int end = i + w.length();
      if (t.startsWith(w, i) && (end >= t.length() || !Character.isJavaIdentifierPart(t.charAt(end)))) {
        return true;
      }
    }
    return false;
  }

  private static int lines(String t, int from, int to) {
    int count = 0;
    for (int i = from; i < Math.min(to, t.length()); i++) {
      if (t.charAt(i) == '\n') {
        count++;
      }
    }
    return count;
  }
}
