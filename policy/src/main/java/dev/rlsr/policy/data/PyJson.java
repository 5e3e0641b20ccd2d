// JSON text of template values as Python's json.dumps writes it, which is what transformers' tojson filter returns
// (ensure_ascii=False by default, ", " and ": " separators, indent=N for pretty printing, sort_keys). Only template
// data serialises: strings, numbers, booleans, None, lists and dicts; anything else stops the render.
package dev.rlsr.policy.data;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.objects.SafeString;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

final class PyJson {
  private PyJson() {}

  /** {@code x|tojson(indent=None, sort_keys=False, ensure_ascii=False)}. */
  static final class ToJsonFilter implements Filter {
    @Override
    public String getName() {
      return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
      return filter(var, interpreter, args, Map.of());
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
      Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
      String unit = indent == null ? null : indent instanceof Number n ? " ".repeat(Math.max(0, n.intValue()))
          : indent.toString();
      boolean sortKeys = truthy(kwargs.get("sort_keys"));
      boolean ascii = truthy(kwargs.get("ensure_ascii"));
      StringBuilder sb = new StringBuilder();
      write(sb, var, unit, 0, sortKeys, ascii);
      return sb.toString();
    }

    private static boolean truthy(Object o) {
      return o instanceof Boolean b ? b : o != null && !"false".equalsIgnoreCase(o.toString());
    }
  }

  static String dumps(Object value) {
    StringBuilder sb = new StringBuilder();
    write(sb, value, null, 0, false, false);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v, String indent, int level, boolean sortKeys, boolean ascii) {
    RenderGuard.checkLength(sb.length());
    if (level > TemplateLimits.MAX_NESTING) {
      throw RenderGuard.stop("tojson: the value nests deeper than " + TemplateLimits.MAX_NESTING);
    }
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Boolean b) {
      sb.append(b ? "true" : "false");
    } else if (v instanceof Double || v instanceof Float) {
      sb.append(pyFloat(((Number) v).doubleValue()));
    } else if (v instanceof BigDecimal d) {
      sb.append(d.scale() <= 0 ? d.toBigInteger().toString() : pyFloat(d.doubleValue()));
    } else if (v instanceof Number n) {
      sb.append(n.toString());
    } else if (v instanceof CharSequence || v instanceof SafeString) {
      string(sb, v.toString(), ascii);
    } else if (v instanceof Map<?, ?> m) {
      List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
      if (sortKeys) {
        entries.sort((a, b) -> key(a.getKey()).compareTo(key(b.getKey())));
      }
      if (entries.isEmpty()) {
        sb.append("{}");
        return;
      }
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : entries) {
        separator(sb, first, indent, level + 1);
        first = false;
        string(sb, key(e.getKey()), ascii);
        sb.append(": ");
        write(sb, e.getValue(), indent, level + 1, sortKeys, ascii);
      }
      close(sb, indent, level);
      sb.append('}');
    } else if (v instanceof Collection || v instanceof Object[]) {
      Collection<?> c = v instanceof Collection<?> col ? col : List.of((Object[]) v);
      if (c.isEmpty()) {
        sb.append("[]");
        return;
      }
      sb.append('[');
      boolean first = true;
      for (Object o : c) {
        separator(sb, first, indent, level + 1);
        first = false;
        write(sb, o, indent, level + 1, sortKeys, ascii);
      }
      close(sb, indent, level);
      sb.append(']');
    } else {
      throw RenderGuard.stop("tojson cannot serialise a " + PyMethods.typeName(v));
    }
  }

  private static void separator(StringBuilder sb, boolean first, String indent, int level) {
    if (!first) {
      sb.append(indent == null ? ", " : ",");
    }
    if (indent != null) {
      sb.append('\n').append(indent.repeat(level));
    }
  }

  private static void close(StringBuilder sb, String indent, int level) {
    if (indent != null) {
      sb.append('\n').append(indent.repeat(level));
    }
  }

  /** A dict key as json.dumps writes it: str as is; numbers, bools and None as their JSON text. */
  private static String key(Object k) {
    if (k instanceof CharSequence || k instanceof SafeString) {
      return k.toString();
    } else if (k == null || k instanceof Boolean || k instanceof Number) {
      return dumps(k);
    }
    throw RenderGuard.stop("tojson cannot serialise a dict key of type " + PyMethods.typeName(k));
  }

  private static void string(StringBuilder sb, String s, boolean ascii) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20 || (ascii && c > 0x7e)) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  /** Python's repr of a float: shortest digits, exponent form below 1e-4 and from 1e16. */
  static String pyFloat(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    } else if (Double.isInfinite(d)) {
      return d > 0 ? "Infinity" : "-Infinity";
    } else if (d == 0) {
      return 1 / d < 0 ? "-0.0" : "0.0";
    }
    BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
    String digits = bd.unscaledValue().toString();
    int exp = digits.length() - bd.scale() - 1; // scientific exponent
    String sign = d < 0 ? "-" : "";
    if (exp >= -4 && exp < 16) {
      String plain = bd.toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
  }

  /**
   * A value as Jinja2 prints it in {{ ... }}: True/False, lists and dicts as Python's repr ({@code ['a', None]}),
   * other values as jinjava does ({@code null} when not one of these). None prints as "", like an undefined value:
   * jinjava holds both as null (Jinja2 prints None as "None"; chat templates print undefined values, not none).
   */
  static String printed(Object o) {
    if (o instanceof Boolean b) {
      return b ? "True" : "False";
    } else if (o instanceof Map<?, ?> || o instanceof Collection<?>) {
      StringBuilder sb = new StringBuilder();
      repr(o, sb, 0);
      return sb.toString();
    }
    return null;
  }

  private static void repr(Object o, StringBuilder sb, int depth) {
    if (depth > TemplateLimits.MAX_NESTING) {
      sb.append("...");
    } else if (o == null) {
      sb.append("None");
    } else if (o instanceof Boolean b) {
      sb.append(b ? "True" : "False");
    } else if (o instanceof CharSequence cs) {
      reprString(cs.toString(), sb);
    } else if (o instanceof Double || o instanceof Float) {
      double d = ((Number) o).doubleValue();
      sb.append(Double.isNaN(d) ? "nan" : Double.isInfinite(d) ? (d > 0 ? "inf" : "-inf") : pyFloat(d));
    } else if (o instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        sb.append(first ? "" : ", ");
        first = false;
        repr(e.getKey(), sb, depth + 1);
        sb.append(": ");
        repr(e.getValue(), sb, depth + 1);
      }
      sb.append('}');
    } else if (o instanceof Collection<?> c) {
      sb.append('[');
      boolean first = true;
      for (Object e : c) {
        sb.append(first ? "" : ", ");
        first = false;
        repr(e, sb, depth + 1);
      }
      sb.append(']');
    } else {
      sb.append(o);
    }
  }

  /** Python's repr of a str: single quotes unless it holds ' and no ", escapes for \\, the quote and controls. */
  static void reprString(String s, StringBuilder sb) {
    char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    sb.append(q);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == q || c == '\\') {
        sb.append('\\').append(c);
      } else if (c == '\n') {
        sb.append("\\n");
      } else if (c == '\r') {
        sb.append("\\r");
      } else if (c == '\t') {
        sb.append("\\t");
      } else if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    sb.append(q);
  }
}
