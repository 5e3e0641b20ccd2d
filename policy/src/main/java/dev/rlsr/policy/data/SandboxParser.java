// jinjava's expression parser, as the template sandbox uses it: it refuses jinjava's internal names (the interpreter,
// "filter:" and "exptest:" lookups) whether written in the source or computed at run time, refuses unknown filters
// and tests by name, and parses three things the way Jinja2 does where jinjava does not: a named argument's whole
// value (namespace(i=messages|length - 1)), slices with a step (messages[::-1]) and str/list repetition ('-' * 3).
package dev.rlsr.policy.data;

import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.el.ext.AstDict;
import com.hubspot.jinjava.el.ext.AstList;
import com.hubspot.jinjava.el.ext.AstTuple;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.el.ext.NamedParameterOperator;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import jinjava.de.odysseus.el.misc.NumberOperations;
import jinjava.de.odysseus.el.misc.TypeConverter;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.Scanner.ScanException;
import jinjava.de.odysseus.el.tree.impl.Scanner.Symbol;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;
import jinjava.de.odysseus.el.tree.impl.ast.AstProperty;
import jinjava.de.odysseus.el.tree.impl.ast.AstRightValue;
import jinjava.javax.el.ELContext;

final class SandboxParser extends ExtendedParser {
  SandboxParser(Builder context, String input) {
    super(context, input);
  }

  /** The tree builder jinjava's expression factory instantiates by name (hence public, with both constructors). */
  public static final class SandboxSyntaxBuilder extends com.hubspot.jinjava.el.ExtendedSyntaxBuilder {
    private static final long serialVersionUID = 1L;

    public SandboxSyntaxBuilder() {
      super();
    }

    public SandboxSyntaxBuilder(Feature... features) {
      super(features);
    }

    @Override
    protected Parser createParser(String expression) {
      return new SandboxParser(this, expression);
    }
  }

  /** True for names only jinjava itself may look up: the interpreter, and filters or tests as objects. */
  static boolean reserved(Object name) {
    if (!(name instanceof CharSequence)) {
      return false;
    }
    String s = name.toString();
    if (s.contains("int3rpr3t3r")) {
      return true;
    }
    for (String part : s.split("\\.")) { // filters take attribute paths such as map(attribute='a.b')
      if (part.startsWith(FILTER_PREFIX) || part.startsWith(EXPTEST_PREFIX)) {
        return true;
      }
    }
    return false;
  }

  private static RenderGuard.TemplateAbort refuseName(String name) {
    return RenderGuard.stop("the template names '" + name + "', an internal of jinjava that rlsr's template sandbox "
        + "refuses");
  }

  @Override
  protected AstNode nonliteral() throws ScanException, ParseException {
    Scanner.Token t = getToken();
    if (t.getSymbol() == Symbol.IDENTIFIER) {
      String name = t.getImage();
      if (reserved(name) || ((name.equals("filter") || name.equals("exptest"))
          && lookahead(0).getSymbol() == Symbol.COLON)) {
        throw refuseName(name + (reserved(name) ? "" : ":"));
      }
    }
    return super.nonliteral();
  }

  @Override
  protected AstDot createAstDot(AstNode base, String name, boolean lvalue) {
    if (reserved(name)) {
      throw refuseName(name);
    }
    return super.createAstDot(base, name, lvalue);
  }

  /** As jinjava's, except that a named argument's value is a whole expression, as in Jinja2. */
  @Override
  protected AstNode add(boolean required) throws ScanException, ParseException {
    AstNode v = mul(required);
    if (v == null) {
      return null;
    }
    while (true) {
      switch (getToken().getSymbol()) {
        case PLUS:
          consumeToken();
          v = createAstBinary(v, mul(true), AdditionOperator.OP);
          break;
        case MINUS:
          consumeToken();
          v = createAstBinary(v, mul(true), AstBinary.SUB);
          break;
        case EXTENSION:
          if (getExtensionHandler(getToken()) == NamedParameterOperator.HANDLER) {
            return getExtensionHandler(consumeToken()).createAstNode(v, expr(true));
          }
          if (getExtensionHandler(getToken()).getExtensionPoint() == ExtensionPoint.ADD) {
            v = getExtensionHandler(consumeToken()).createAstNode(v, mul(true));
            break;
          }
          return v;
        default:
          return v;
      }
    }
  }

  /** Refuses an unknown test ({@code x is nosuchtest}) here: jinjava would evaluate it to nothing, silently. */
  @Override
  protected AstNode unary(boolean required) throws ScanException, ParseException {
    AstNode v = super.unary(required);
    if (v != null && "is".equals(getToken().getImage())) {
      Scanner.Token name = "not".equals(lookahead(0).getImage()) ? lookahead(1) : lookahead(0);
      if (name.getSymbol() == Symbol.IDENTIFIER && !SandboxLibrary.TESTS.contains(name.getImage())) {
        throw RenderGuard.stop("the template uses an unknown test '" + name.getImage() + "'");
      }
    }
    return v;
  }

  /** As jinjava's, and refuses filters the sandbox does not have, by name. */
  @Override
  protected AstNode parseFiltersAsNestedMethods(AstNode left) throws ScanException, ParseException {
    AstNode v = left;
    do {
      consumeToken(); // '|'
      String filterName = consumeToken().getImage();
      SandboxLibrary.checkFilter(filterName);
      List<AstNode> filterParams = new ArrayList<>(List.of(v, interpreter()));
      if (getToken().getSymbol() == Symbol.LPAREN) {
        AstParameters astParameters = params();
        for (int i = 0; i < astParameters.getCardinality(); i++) {
          filterParams.add(astParameters.getChild(i));
        }
      }
      AstProperty filterProperty = super.createAstDot(identifier(FILTER_PREFIX + filterName), "filter", true);
      v = createAstMethod(filterProperty, createAstParameters(filterParams));
    } while ("|".equals(getToken().getImage()));
    return v;
  }

  /** As jinjava's (with its natural operator precedence), with Python slices {@code [a:b:c]} and guarded brackets. */
  @Override
  protected AstNode value() throws ScanException, ParseException {
    boolean lvalue = true;
    AstNode v = nonliteral();
    if (v == null) {
      v = literal();
      if (v == null) {
        return null;
      }
      lvalue = false;
    }
    while (true) {
      switch (getToken().getSymbol()) {
        case DOT: {
          consumeToken();
          String name = consumeToken(Symbol.IDENTIFIER).getImage();
          AstDot dot = createAstDot(v, name, lvalue);
          if (getToken().getSymbol() == Symbol.LPAREN && context.isEnabled(Builder.Feature.METHOD_INVOCATIONS)) {
            v = createAstMethod(dot, params());
          } else {
            v = dot;
          }
          break;
        }
        case LBRACK: {
          consumeToken();
          AstNode start = expr(false);
          boolean strict = !context.isEnabled(Builder.Feature.NULL_PROPERTIES);
          Scanner.Token next = consumeToken();
          if (next.getSymbol() == Symbol.COLON) {
            AstNode stop = expr(false);
            AstNode step = null;
            if (getToken().getSymbol() == Symbol.COLON) {
              consumeToken();
              step = expr(false);
            }
            consumeToken(Symbol.RBRACK);
            v = new PySlice(v, start, stop, step);
          } else if (next.getSymbol() == Symbol.RBRACK) {
            AstBracket bracket = new GuardedBracket(v, start, lvalue, strict);
            if (getToken().getSymbol() == Symbol.LPAREN && context.isEnabled(Builder.Feature.METHOD_INVOCATIONS)) {
              v = createAstMethod(bracket, params());
            } else {
              v = bracket;
            }
          } else {
            fail(Symbol.RBRACK);
          }
          break;
        }
        default:
          return v;
      }
    }
  }

  /** List, tuple and dict literals: checked for the characters they hold, like every container a template builds. */
  @Override
  protected AstList createAstList(AstParameters parameters) throws ScanException, ParseException {
    return new AstList(parameters) {
      @Override
      public Object eval(Bindings bindings, ELContext context) {
        Object v = super.eval(bindings, context);
        RenderGuard.checkHeld(v);
        return v;
      }
    };
  }

  @Override
  protected AstTuple createAstTuple(AstParameters parameters) throws ScanException, ParseException {
    return new AstTuple(parameters) {
      @Override
      public Object eval(Bindings bindings, ELContext context) {
        Object v = super.eval(bindings, context);
        RenderGuard.checkHeld(v);
        return v;
      }
    };
  }

  @Override
  protected AstDict createAstDict(Map<AstNode, AstNode> dict) {
    return new AstDict(dict) {
      @Override
      public Object eval(Bindings bindings, ELContext context) {
        Object v = super.eval(bindings, context);
        RenderGuard.checkHeld(v);
        return v;
      }
    };
  }

  @Override
  protected AstBinary createAstBinary(AstNode left, AstNode right, AstBinary.Operator operator) {
    if (operator == AstBinary.MUL) {
      return super.createAstBinary(left, right, PyMul.OP);
    } else if (operator == AdditionOperator.OP) {
      return super.createAstBinary(left, right, PyAdd.OP);
    }
    return super.createAstBinary(left, right, operator);
  }

  /** {@code x[key]} that refuses jinjava's internal names computed at run time. */
  private static final class GuardedBracket extends AstBracket {
    GuardedBracket(AstNode base, AstNode property, boolean lvalue, boolean strict) {
      super(base, property, lvalue, strict);
    }

    @Override
    protected Object getProperty(Bindings bindings, ELContext context) {
      Object p = super.getProperty(bindings, context);
      if (reserved(p)) {
        throw refuseName(p.toString());
      }
      return p;
    }
  }

  /** Python's {@code *}: numbers multiply; a str or list times an int repeats (within the size limits). */
  private static final class PyMul extends AstBinary.SimpleOperator {
    static final PyMul OP = new PyMul();

    @Override
    protected Object apply(TypeConverter converter, Object a, Object b) {
      Object seq = isInt(b) ? a : b;
      Object times = isInt(b) ? b : a;
      if (isInt(times) && (seq instanceof CharSequence || seq instanceof Collection)) {
        long n = Math.max(0, ((Number) times).longValue());
        if (seq instanceof CharSequence s) {
          RenderGuard.checkLength(s.length() * n);
          return s.toString().repeat((int) n);
        }
        Collection<?> c = (Collection<?>) seq;
        RenderGuard.checkSize(c.size() * n);
        if (n > 1) {
          RenderGuard.checkHeld(Collections.nCopies((int) n, c));
        }
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) {
          out.addAll(c);
        }
        return PyMethods.newList(out);
      }
      return NumberOperations.mul(converter, a, b);
    }

    private static boolean isInt(Object o) {
      return o instanceof Long || o instanceof Integer || o instanceof Short || o instanceof Byte;
    }

    @Override
    public String toString() {
      return "*";
    }
  }

  /** jinjava's {@code +}, with list concatenation within the size limit (strings are limited by jinjava). */
  private static final class PyAdd extends AdditionOperator {
    static final PyAdd OP = new PyAdd();

    @Override
    protected Object apply(TypeConverter converter, Object a, Object b) {
      if (a instanceof Collection<?> x) {
        RenderGuard.checkSize((long) x.size() + (b instanceof Collection<?> y ? y.size() : 1));
        RenderGuard.checkHeld(List.of(a, b == null ? "" : b));
      }
      return super.apply(converter, a, b);
    }
  }

  /** {@code x[start:stop:step]} on a list or string, as in Python. */
  private static final class PySlice extends AstRightValue {
    private final AstNode base;
    private final AstNode start;
    private final AstNode stop;
    private final AstNode step;

    PySlice(AstNode base, AstNode start, AstNode stop, AstNode step) {
      this.base = base;
      this.start = start;
      this.stop = stop;
      this.step = step;
    }

    @Override
    public Object eval(Bindings bindings, ELContext context) {
      Object b = base.eval(bindings, context);
      List<Object> items;
      int[] codePoints = null;
      if (b instanceof CharSequence s) {
        codePoints = s.toString().codePoints().toArray(); // Python slices code points; no list: a str may be long
        items = null;
      } else if (b instanceof Collection<?> c) {
        items = new ArrayList<>(c);
      } else if (b instanceof Object[] a) {
        items = new ArrayList<>(List.of(a));
      } else if (b == null) {
        return null;
      } else {
        throw RenderGuard.stop("the template slices a " + PyMethods.typeName(b) + ", which is not a list or str");
      }
      long n = codePoints != null ? codePoints.length : items.size();
      long st = bound(step, bindings, context, 1);
      if (st == 0) {
        throw RenderGuard.stop("the template slices with step 0");
      }
      long lo = bound(start, bindings, context, st > 0 ? 0 : n - 1);
      long hi = bound(stop, bindings, context, st > 0 ? n : Long.MIN_VALUE);
      lo = clamp(lo, n, st);
      hi = hi == Long.MIN_VALUE ? -1 : clamp(hi, n, st);
      if (codePoints != null) {
        StringBuilder sb = new StringBuilder();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
          sb.appendCodePoint(codePoints[(int) i]);
        }
        return sb.toString();
      }
      List<Object> out = new ArrayList<>();
      for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
        out.add(items.get((int) i));
      }
      return PyMethods.newList(out);
    }

    /** Python's slice index adjustment: negative counts from the end, then clamps into range. */
    private static long clamp(long i, long n, long step) {
      if (i < 0) {
        i += n;
        if (i < 0) {
          i = step < 0 ? -1 : 0;
        }
      } else if (i >= n) {
        i = step < 0 ? n - 1 : n;
      }
      return i;
    }

    private static long bound(AstNode node, Bindings bindings, ELContext context, long dflt) {
      if (node == null) {
        return dflt;
      }
      Object v = node.eval(bindings, context);
      if (v == null) {
        return dflt;
      }
      if (!(v instanceof Number num) || v instanceof Double || v instanceof Float) {
        throw RenderGuard.stop("the template slices with a " + PyMethods.typeName(v) + " index");
      }
      return num.longValue();
    }

    @Override
    public void appendStructure(StringBuilder b, Bindings bindings) {
      base.appendStructure(b, bindings);
      b.append('[');
      if (start != null) {
        start.appendStructure(b, bindings);
      }
      b.append(':');
      if (stop != null) {
        stop.appendStructure(b, bindings);
      }
      if (step != null) {
        b.append(':');
        step.appendStructure(b, bindings);
      }
      b.append(']');
    }

    @Override
    public String toString() {
      return "[::]";
    }

    @Override
    public int getCardinality() {
      return 4;
    }

    @Override
    public AstNode getChild(int i) {
      return switch (i) {
        case 0 -> base;
        case 1 -> start;
        case 2 -> stop;
        case 3 -> step;
        default -> null;
      };
    }
  }
}
