// The methods a sandboxed chat template may call on its values, with Python's semantics: the str, dict and list
// methods Hugging Face chat templates use (message.content.startswith(...), .split(...), .strip(), d.items(), ...).
// None modifies a value (list.append, dict.update, ... are refused, as in transformers' ImmutableSandboxedEnvironment;
// templates keep state in namespace()). Nothing else is callable: templates see data, never Java objects.
package dev.rlsr.policy.data;

import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.objects.collections.PyList;
import com.hubspot.jinjava.objects.collections.SizeLimitingPyList;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

final class PyMethods {
  private PyMethods() {}

  static final Set<String> STR = Set.of("startswith", "endswith", "strip", "lstrip", "rstrip", "split", "rsplit",
      "splitlines", "upper", "lower", "title", "capitalize", "replace", "join", "find", "rfind", "count", "isdigit",
      "isalpha", "isalnum", "isspace", "islower", "isupper");
  static final Set<String> DICT = Set.of("items", "keys", "values", "get");
  static final Set<String> LIST = Set.of("index", "count");

  /** Python's type name of a template value, for error messages. */
  static String typeName(Object o) {
    if (o == null) {
      return "NoneType";
    } else if (o instanceof CharSequence) {
      return "str";
    } else if (o instanceof Boolean) {
      return "bool";
    } else if (o instanceof Double || o instanceof Float) {
      return "float";
    } else if (o instanceof Number) {
      return "int";
    } else if (o instanceof Map) {
      return "dict";
    } else if (o instanceof Collection || o.getClass().isArray()) {
      return "list";
    }
    return "Java object";
  }

  /** A new list for template values (jinjava's list type, size-limited). */
  static PyList newList(List<Object> items) {
    RenderGuard.checkSize(items.size());
    return new SizeLimitingPyList(items, TemplateLimits.MAX_COLLECTION_SIZE);
  }

  /** Call {@code s.name(params)}. */
  static Object str(String s, String name, Object[] params) {
    switch (name) {
      case "startswith", "endswith": {
        Object[] a = args(name, params, 1, 3, "prefix", "start", "end");
        int start = a[1] == null ? 0 : index(a[1], s.length());
        int end = a[2] == null ? s.length() : index(a[2], s.length());
        String part = start <= end ? s.substring(start, end) : "";
        for (Object p : a[0] instanceof Collection<?> c ? c : List.of(a[0])) {
          String x = string(name, p);
          if (name.equals("startswith") ? part.startsWith(x) : part.endsWith(x)) {
            return true;
          }
        }
        return false;
      }
      case "strip", "lstrip", "rstrip": {
        Object[] a = args(name, params, 0, 1, "chars");
        String chars = a[0] == null ? null : string(name, a[0]);
        int b = 0;
        int e = s.length();
        if (!name.equals("rstrip")) {
          while (b < e && strips(s.charAt(b), chars)) {
            b++;
          }
        }
        if (!name.equals("lstrip")) {
          while (e > b && strips(s.charAt(e - 1), chars)) {
            e--;
          }
        }
        return s.substring(b, e);
      }
      case "split", "rsplit": {
        Object[] a = args(name, params, 0, 2, "sep", "maxsplit");
        long max = a[1] == null ? -1 : integer(name, a[1]);
        return newList(a[0] == null ? splitWhitespace(s, max, name.equals("rsplit"))
            : split(s, string(name, a[0]), max, name.equals("rsplit")));
      }
      case "splitlines": {
        args(name, params, 0, 0);
        List<Object> out = new ArrayList<>();
        for (String l : s.split("\r\n|[\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029]", -1)) {
          out.add(l);
        }
        if (!out.isEmpty() && ((String) out.get(out.size() - 1)).isEmpty()) {
          out.remove(out.size() - 1);
        }
        return newList(out);
      }
      case "upper":
        args(name, params, 0, 0);
        return s.toUpperCase(Locale.ROOT);
      case "lower":
        args(name, params, 0, 0);
        return s.toLowerCase(Locale.ROOT);
      case "title": {
        args(name, params, 0, 0);
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); i++) {
          char c = s.charAt(i);
          sb.append(prevCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
          prevCased = Character.isLetter(c);
        }
        return sb.toString();
      }
      case "capitalize":
        args(name, params, 0, 0);
        return s.isEmpty() ? s : Character.toTitleCase(s.charAt(0)) + s.substring(1).toLowerCase(Locale.ROOT);
      case "replace": {
        Object[] a = args(name, params, 2, 3, "old", "new", "count");
        String old = string(name, a[0]);
        String neu = string(name, a[1]);
        long count = a[2] == null ? -1 : integer(name, a[2]);
        long occurrences = old.isEmpty() ? s.length() + 1L : count(s, old);
        if (count >= 0) {
          occurrences = Math.min(occurrences, count);
        }
        RenderGuard.checkLength(s.length() + occurrences * (neu.length() - old.length()));
        if (old.isEmpty()) {
          StringBuilder sb = new StringBuilder();
          long done = 0;
          for (int i = 0; i <= s.length(); i++) {
            if (done++ < occurrences) {
              sb.append(neu);
            }
            if (i < s.length()) {
              sb.append(s.charAt(i));
            }
          }
          return sb.toString();
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long k = 0; k < occurrences; k++) {
          int at = s.indexOf(old, from);
          sb.append(s, from, at).append(neu);
          from = at + old.length();
        }
        return sb.append(s, from, s.length()).toString();
      }
      case "join": {
        Object[] a = args(name, params, 1, 1, "iterable");
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        for (Object o : iterable(name, a[0])) {
          if (!first) {
            sb.append(s);
          }
          first = false;
          String x = string(name, o);
          RenderGuard.checkLength((long) sb.length() + x.length());
          sb.append(x);
        }
        return sb.toString();
      }
      case "find", "rfind": {
        Object[] a = args(name, params, 1, 1, "sub");
        String x = string(name, a[0]);
        return (long) (name.equals("find") ? s.indexOf(x) : s.lastIndexOf(x));
      }
      case "count": {
        Object[] a = args(name, params, 1, 1, "sub");
        String x = string(name, a[0]);
        return x.isEmpty() ? s.length() + 1L : (long) count(s, x);
      }
      case "isdigit", "isalpha", "isalnum", "isspace":
        args(name, params, 0, 0);
        return !s.isEmpty() && s.chars().allMatch(c -> switch (name) {
          case "isdigit" -> Character.isDigit(c);
          case "isalpha" -> Character.isLetter(c);
          case "isalnum" -> Character.isLetterOrDigit(c);
          default -> isSpace((char) c);
        });
      case "islower", "isupper": {
        args(name, params, 0, 0);
        boolean cased = false;
        for (int i = 0; i < s.length(); i++) {
          char c = s.charAt(i);
          if (name.equals("islower") ? Character.isUpperCase(c) || Character.isTitleCase(c) : Character.isLowerCase(c)) {
            return false;
          }
          cased |= Character.isLowerCase(c) || Character.isUpperCase(c);
        }
        return cased;
      }
      default:
        throw noMethod(s, name);
    }
  }

  /** Call {@code d.name(params)}. */
  static Object dict(Map<?, ?> d, String name, Object[] params) {
    switch (name) {
      case "items": {
        args(name, params, 0, 0);
        List<Object> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : d.entrySet()) {
          out.add(newList(new ArrayList<>(java.util.Arrays.asList(e.getKey(), e.getValue()))));
        }
        return newList(out);
      }
      case "keys":
        args(name, params, 0, 0);
        return newList(new ArrayList<>(d.keySet()));
      case "values":
        args(name, params, 0, 0);
        return newList(new ArrayList<>(d.values()));
      case "get": {
        Object[] a = args(name, params, 1, 2, "key", "default");
        return d.containsKey(a[0]) ? d.get(a[0]) : a[1];
      }
      default:
        throw noMethod(d, name);
    }
  }

  /** Call {@code l.name(params)}. */
  static Object list(List<?> l, String name, Object[] params) {
    switch (name) {
      case "index": {
        Object[] a = args(name, params, 1, 1, "value");
        int i = l.indexOf(a[0]);
        if (i < 0) {
          throw RenderGuard.stop("the template called index() for a value not in the list");
        }
        return (long) i;
      }
      case "count": {
        Object[] a = args(name, params, 1, 1, "value");
        return l.stream().filter(o -> Objects.equals(o, a[0])).count();
      }
      default:
        throw noMethod(l, name);
    }
  }

  static RenderGuard.TemplateAbort noMethod(Object base, String name) {
    String offered = base instanceof String ? " (str methods offered: " + String.join(", ", new java.util.TreeSet<>(STR))
        + ")" : base instanceof Map ? " (dict methods offered: " + String.join(", ", new java.util.TreeSet<>(DICT)) + ")"
        : base instanceof List ? " (list methods offered: " + String.join(", ", new java.util.TreeSet<>(LIST)) + ")" : "";
    boolean mutator = Set.of("append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update",
        "setdefault", "popitem").contains(name) && (base instanceof List || base instanceof Map);
    return RenderGuard.stop("the template calls " + name + "() on a " + typeName(base)
        + ", which rlsr's template sandbox does not offer" + offered
        + (mutator ? "; templates cannot modify values, as in transformers' sandbox (keep state in namespace())" : ""));
  }

  /**
   * Binds positional and named arguments (jinjava passes {@code name=value} as NamedParameter) to the method's
   * parameter names; fails on a wrong count or an unknown name.
   */
  private static Object[] args(String method, Object[] params, int min, int max, String... names) {
    Object[] out = new Object[names.length];
    boolean[] set = new boolean[names.length];
    int positional = 0;
    for (Object p : params == null ? new Object[0] : params) {
      if (p instanceof NamedParameter np) {
        int k = java.util.Arrays.asList(names).indexOf(np.getName());
        if (k < 0) {
          throw RenderGuard.stop("the template calls " + method + "() with an unknown argument '" + np.getName() + "'");
        }
        out[k] = np.getValue();
        set[k] = true;
      } else {
        if (positional >= max) {
          throw RenderGuard.stop("the template calls " + method + "() with more than " + max + " argument(s)");
        }
        out[positional] = p;
        set[positional++] = true;
      }
    }
    for (int k = 0; k < min; k++) {
      if (!set[k]) {
        throw RenderGuard.stop("the template calls " + method + "() without its argument '" + names[k] + "'");
      }
    }
    return out;
  }

  private static String string(String method, Object o) {
    if (o instanceof CharSequence || o instanceof com.hubspot.jinjava.objects.SafeString) {
      return o.toString();
    }
    throw RenderGuard.stop("the template passes a " + typeName(o) + " to " + method + "(), which takes a str");
  }

  private static long integer(String method, Object o) {
    if (o instanceof Number n && !(o instanceof Double) && !(o instanceof Float)) {
      return n.longValue();
    }
    throw RenderGuard.stop("the template passes a " + typeName(o) + " to " + method + "(), which takes an int");
  }

  /** A Python index (negative counts from the end), clamped to [0, size]. */
  private static int index(Object o, int size) {
    long i = integer("index", o);
    if (i < 0) {
      i += size;
    }
    return (int) Math.max(0, Math.min(size, i));
  }

  private static Iterable<?> iterable(String method, Object o) {
    if (o instanceof Iterable<?> it) {
      return it;
    } else if (o instanceof Map<?, ?> m) {
      return m.keySet();
    } else if (o instanceof String s) {
      List<Object> chars = new ArrayList<>();
      s.codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
      return chars;
    } else if (o instanceof Object[] a) {
      return java.util.Arrays.asList(a);
    }
    throw RenderGuard.stop("the template passes a " + typeName(o) + " to " + method + "(), which takes a list");
  }

  /** Python's str.isspace for one character. */
  static boolean isSpace(char c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
  }

  private static boolean strips(char c, String chars) {
    return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
  }

  private static int count(String s, String x) {
    int n = 0;
    for (int at = s.indexOf(x); at >= 0; at = s.indexOf(x, at + x.length())) {
      n++;
    }
    return n;
  }

  private static List<Object> split(String s, String sep, long max, boolean fromRight) {
    if (sep.isEmpty()) {
      throw RenderGuard.stop("the template calls split() with an empty separator");
    }
    List<Object> out = new ArrayList<>();
    if (!fromRight) {
      int from = 0;
      for (int at = s.indexOf(sep); at >= 0 && (max < 0 || out.size() < max); at = s.indexOf(sep, from)) {
        out.add(s.substring(from, at));
        from = at + sep.length();
      }
      out.add(s.substring(from));
    } else {
      int to = s.length();
      for (int at = s.lastIndexOf(sep, to - sep.length()); at >= 0 && (max < 0 || out.size() < max);
          at = to - sep.length() < 0 ? -1 : s.lastIndexOf(sep, to - sep.length())) {
        out.add(0, s.substring(at + sep.length(), to));
        to = at;
      }
      out.add(0, s.substring(0, to));
    }
    return out;
  }

  /** Python's split() without a separator: runs of whitespace separate, and no empty strings result. */
  private static List<Object> splitWhitespace(String s, long max, boolean fromRight) {
    List<Object> words = new ArrayList<>();
    int n = s.length();
    if (!fromRight) {
      int i = 0;
      while (true) {
        while (i < n && isSpace(s.charAt(i))) {
          i++;
        }
        if (i >= n) {
          break;
        }
        if (max >= 0 && words.size() >= max) {
          int e = n;
          while (e > i && isSpace(s.charAt(e - 1))) {
            e--;
          }
          words.add(s.substring(i, e));
          break;
        }
        int j = i;
        while (j < n && !isSpace(s.charAt(j))) {
          j++;
        }
        words.add(s.substring(i, j));
        i = j;
      }
    } else {
      int e = n;
      while (true) {
        while (e > 0 && isSpace(s.charAt(e - 1))) {
          e--;
        }
        if (e <= 0) {
          break;
        }
        if (max >= 0 && words.size() >= max) {
          int b = 0;
          while (b < e && isSpace(s.charAt(b))) {
            b++;
          }
          words.add(0, s.substring(b, e));
          break;
        }
        int b = e;
        while (b > 0 && !isSpace(s.charAt(b - 1))) {
          b--;
        }
        words.add(0, s.substring(b, e));
        e = b;
      }
    }
    return words;
  }
}
