// The filters, tests, functions and tags a sandboxed chat template has: Jinja2's built-in filters that jinjava
// implements (each wrapped to check its arguments and result against the limits), transformers' tojson and
// strftime_now, Jinja2's items, raise_exception; jinjava's tests; range and namespace; every tag but the four that load
// other files. Everything else jinjava offers (render, fromjson, pprint of Java objects, datetime helpers, ...) is
// disabled.
package dev.rlsr.policy.data;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

final class SandboxLibrary {
  private SandboxLibrary() {}

  /** Jinja2's built-in filters that jinjava implements; ours (tojson, items) are added to these. */
  private static final Set<String> JINJA2_FILTERS = Set.of("abs", "attr", "batch", "capitalize", "center", "count",
      "d", "default", "dictsort", "e", "escape", "filesizeformat", "first", "float", "forceescape", "format", "groupby",
      "indent", "int", "join", "last", "length", "list", "lower", "map", "random", "reject", "rejectattr", "replace",
      "reverse", "round", "safe", "select", "selectattr", "slice", "sort", "string", "striptags", "sum", "title",
      "trim", "truncate", "unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr");
  /** Filters whose numeric arguments are widths or lengths of what they build. */
  private static final Set<String> WIDTH_FILTERS = Set.of("center", "indent", "truncate", "wordwrap", "batch", "slice");
  /** A printf width or precision of 6+ digits, beyond the width limit (format filter). */
  private static final Pattern HUGE_FORMAT = Pattern.compile("%[-#+ 0,(<]*(\\d{6,}|\\d*\\.\\d{6,})");
  private static final Set<String> FUNCTIONS = Set.of(":range", ":namespace", ":raise_exception", ":strftime_now");

  /** All of jinjava's built-ins, to tell "not in the sandbox" from "does not exist" and to disable the rest. */
  private static final Context JINJAVA = new Context();
  private static final Set<String> JINJAVA_FILTERS =
      JINJAVA.getAllFilters().stream().map(Filter::getName).collect(Collectors.toSet());

  /** Filters a template may use. */
  static final Set<String> FILTERS;
  /** Tests a template may use: all of jinjava's (none reaches beyond its argument). */
  static final Set<String> TESTS =
      JINJAVA.getAllExpTests().stream().map(ExpTest::getName).collect(Collectors.toUnmodifiableSet());

  static {
    Set<String> f = new HashSet<>(JINJA2_FILTERS);
    f.retainAll(JINJAVA_FILTERS);
    f.add("tojson");
    f.add("items");
    FILTERS = Set.copyOf(f);
  }

  /** What jinjava disables: its filters, functions and tags beyond the sandbox's. */
  static Map<Context.Library, Set<String>> disabled() {
    Map<Context.Library, Set<String>> d = new HashMap<>();
    Set<String> filters = new HashSet<>(JINJAVA_FILTERS);
    filters.removeAll(FILTERS);
    d.put(Context.Library.FILTER, filters);
    d.put(Context.Library.FUNCTION, JINJAVA.getAllFunctions().stream().map(ELFunctionDefinition::getName)
        .filter(n -> !FUNCTIONS.contains(n)).collect(Collectors.toSet()));
    d.put(Context.Library.TAG, JINJAVA.getAllTags().stream().map(Tag::getName)
        .filter(TemplateScan.LOADING_TAGS::contains).collect(Collectors.toSet()));
    return d;
  }

  /** Fails the render on a filter the sandbox lacks, naming it (jinjava would silently render nothing). */
  static void checkFilter(String name) {
    if (FILTERS.contains(name)) {
      return;
    }
    throw RenderGuard.stop(JINJAVA_FILTERS.contains(name)
        ? "the template uses the filter '" + name + "', which rlsr's template sandbox does not offer (not a Jinja2 "
            + "built-in)"
        : "the template uses an unknown filter '" + name + "' (filters offered: " + String.join(", ",
            new TreeSet<>(FILTERS)) + ")");
  }

  /** Registers the sandbox's filters and functions in a Jinjava's global context. */
  static void install(Context global) {
    for (Filter f : JINJAVA.getAllFilters()) {
      if (FILTERS.contains(f.getName())) {
        global.registerFilter(new GuardedFilter(f));
      }
    }
    global.registerFilter(new GuardedFilter(new PyJson.ToJsonFilter()));
    global.registerFilter(new GuardedFilter(new ItemsFilter()));
    global.registerTag(new GenerationTag());
    global.registerFunction(new ELFunctionDefinition("", "raise_exception", SandboxLibrary.class, "raiseException",
        String.class));
    global.registerFunction(new ELFunctionDefinition("", "strftime_now", SandboxLibrary.class, "strftimeNow",
        String.class));
    global.registerFunction(new ELFunctionDefinition("", "range", SandboxLibrary.class, "range", Object.class,
        Object[].class));
  }

  /**
   * {@code range([start,] stop[, step])} as in Python, refusing one beyond the collection limit as Jinja2's sandbox
   * does (jinjava's would silently stop short).
   */
  public static List<Object> range(Object first, Object... more) {
    Object[] a = new Object[1 + (more == null ? 0 : more.length)];
    a[0] = first;
    if (more != null) {
      System.arraycopy(more, 0, a, 1, more.length);
    }
    if (a.length > 3) {
      throw RenderGuard.stop("the template calls range() with " + a.length + " arguments");
    }
    long[] v = new long[a.length];
    for (int i = 0; i < a.length; i++) {
      if (!(a[i] instanceof Number n) || a[i] instanceof Double || a[i] instanceof Float) {
        throw RenderGuard.stop("the template calls range() with a " + PyMethods.typeName(a[i]) + ", not an int");
      }
      v[i] = n.longValue();
    }
    long start = a.length == 1 ? 0 : v[0];
    long stop = a.length == 1 ? v[0] : v[1];
    long step = a.length == 3 ? v[2] : 1;
    if (step == 0) {
      throw RenderGuard.stop("the template calls range() with step 0");
    }
    long size = step > 0 ? Math.max(0, (stop - start + step - 1) / step) : Math.max(0, (start - stop - step - 1) / -step);
    if (size > TemplateLimits.MAX_COLLECTION_SIZE) {
      throw RenderGuard.stop("the template calls range() for " + size + " numbers, more than the "
          + TemplateLimits.MAX_COLLECTION_SIZE + " allowed (collection size limit)");
    }
    List<Object> out = new ArrayList<>((int) size);
    for (long i = 0, x = start; i < size; i++, x += step) {
      out.add(x);
    }
    return PyMethods.newList(out);
  }

  /** {@code raise_exception(msg)}: the template refuses the messages. */
  public static String raiseException(String message) {
    throw new TemplateRaised(message);
  }

  /** {@code strftime_now(format)}: the local time, as transformers provides it (Llama 3.1's template uses it). */
  public static String strftimeNow(String format) {
    return StrftimeFormatter.format(ZonedDateTime.now(clock), format);
  }

  /** The clock of strftime_now; tests pin it to compare against fixtures rendered at a fixed date. */
  static volatile java.time.Clock clock = java.time.Clock.systemDefaultZone();

  /** Thrown by raise_exception; turned into an RlsrException naming the template's source. */
  static final class TemplateRaised extends RuntimeException {
    TemplateRaised(String message) {
      super(message);
    }
  }

  /**
   * transformers' {@code {% generation %}...{% endgeneration %}} (it marks the assistant tokens for
   * return_assistant_tokens_mask): renders its body unchanged, as apply_chat_template does.
   */
  static final class GenerationTag implements Tag {
    private static final long serialVersionUID = 1L;

    @Override
    public String getName() {
      return "generation";
    }

    @Override
    public String getEndTagName() {
      return "endgeneration";
    }

    @Override
    public String interpret(com.hubspot.jinjava.tree.TagNode tagNode, JinjavaInterpreter interpreter) {
      StringBuilder sb = new StringBuilder();
      for (com.hubspot.jinjava.tree.Node child : tagNode.getChildren()) {
        sb.append(child.render(interpreter).getValue());
      }
      return sb.toString();
    }
  }

  /** Jinja2's {@code items} filter: a dict's (key, value) pairs. */
  static final class ItemsFilter implements Filter {
    @Override
    public String getName() {
      return "items";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
      if (var == null) {
        return PyMethods.newList(new ArrayList<>());
      }
      if (!(var instanceof Map<?, ?> m)) {
        throw RenderGuard.stop("the template applies |items to a " + PyMethods.typeName(var) + ", not a dict");
      }
      return PyMethods.dict(m, "items", new Object[0]);
    }
  }

  /**
   * A filter that counts as a step, refuses jinjava's internal names among its arguments (attr, map(attribute=...)
   * would look them up), refuses width arguments beyond the string limit before it builds anything, and checks the
   * size of what it returns.
   */
  static final class GuardedFilter implements Filter {
    private final Filter inner;

    GuardedFilter(Filter inner) {
      this.inner = inner;
    }

    @Override
    public String getName() {
      return inner.getName();
    }

    @Override
    public boolean preserveSafeString() {
      return inner.preserveSafeString();
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
      check(args == null ? List.of() : List.of((Object[]) args));
      return result(inner.filter(var, interpreter, args));
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
      List<Object> all = new ArrayList<>(List.of(args == null ? new Object[0] : args));
      if (kwargs != null) {
        all.addAll(kwargs.values());
      }
      check(all);
      if (getName().equals("map") && args != null && args.length > 0 && args[0] instanceof String name
          && (kwargs == null || !kwargs.containsKey("attribute"))) {
        checkFilter(name); // map('upper') applies a filter by name, and jinjava maps an unknown one to None
      }
      if (getName().equals("format") && var != null && HUGE_FORMAT.matcher(var.toString()).find()) {
        throw RenderGuard.stop("the template formats with a width beyond the " + TemplateLimits.MAX_WIDTH
            + " allowed (width limit)");
      }
      return result(inner.filter(var, interpreter, args, kwargs));
    }

    private void check(Collection<?> args) {
      RenderGuard.step();
      for (Object a : args) {
        if (a != null && SandboxParser.reserved(a)) {
          throw RenderGuard.stop("the template passes '" + a + "', an internal name of jinjava, to |" + getName()
              + ", which rlsr's template sandbox refuses");
        }
        if (WIDTH_FILTERS.contains(getName()) && a != null && !(a instanceof Boolean)) {
          double width;
          try {
            width = Math.abs(Double.parseDouble(a.toString()));
          } catch (NumberFormatException e) {
            continue;
          }
          if (width > TemplateLimits.MAX_WIDTH) {
            throw RenderGuard.stop("the template passes a width of " + a + " to |" + getName() + ", more than the "
                + TemplateLimits.MAX_WIDTH + " allowed (width limit)");
          }
        }
      }
    }

    private static Object result(Object r) {
      if (r instanceof CharSequence s) {
        RenderGuard.checkLength(s.length());
      } else if (r instanceof Collection<?> c) {
        RenderGuard.checkSize(c.size());
        RenderGuard.checkHeld(c);
      } else if (r instanceof Map<?, ?> m) {
        RenderGuard.checkSize(m.size());
        RenderGuard.checkHeld(m);
      }
      return r;
    }
  }
}
