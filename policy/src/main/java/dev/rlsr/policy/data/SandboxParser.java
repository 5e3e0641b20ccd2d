// jinjava's expression parser, as the template sandbox uses it: it refuses jinjava's internal names (the interpreter,
// "filter:" and "exptest:" lookups) whether written in the source or computed at run time, refuses unknown filters
// and tests by name, and parses three things the way Jinja2 does where jinjava does not: a named argument's whole
// value (namespace(i=messages|length - 1)), slices with a step (messages[::-1]) and str/list repetition ('-' * 3),
// the last two evaluated by PyOperators.
package dev.rlsr.policy.data;

import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.el.ext.AstDict;
import com.hubspot.jinjava.el.ext.AstList;
import com.hubspot.jinjava.el.ext.AstTuple;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.el.ext.NamedParameterOperator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;
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
    if (getToken().getSymbol() == Symbol.NOT) {
      // Jinja2's "not" takes a whole comparison: not x is defined = not (x is defined), not a == b = not (a == b)
      consumeToken();
      return createAstUnary(eq(true), AstUnary.NOT);
    }
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
          v = calledOrNot(createAstDot(v, name, lvalue));
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
            v = new PyOperators.PySlice(v, start, stop, step);
          } else if (next.getSymbol() == Symbol.RBRACK) {
            v = calledOrNot(new GuardedBracket(v, start, lvalue, strict));
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

  /** {@code x.name} or {@code x[key]}, or a call of it when an argument list follows (and methods are enabled). */
  private AstNode calledOrNot(AstProperty property) throws ScanException, ParseException {
    if (getToken().getSymbol() == Symbol.LPAREN && context.isEnabled(Builder.Feature.METHOD_INVOCATIONS)) {
      return createAstMethod(property, params());
    }
    return property;
  }

  /** List, tuple and dict literals: checked for the characters they hold, like every container a template builds. */
  @Override
  protected AstList createAstList(AstParameters parameters) throws ScanException, ParseException {
    return new AstList(parameters) {
      @Override
      public Object eval(Bindings bindings, ELContext context) {
        return RenderGuard.checkHeld(super.eval(bindings, context));
      }
    };
  }

  @Override
  protected AstTuple createAstTuple(AstParameters parameters) throws ScanException, ParseException {
    return new AstTuple(parameters) {
      @Override
      public Object eval(Bindings bindings, ELContext context) {
        return RenderGuard.checkHeld(super.eval(bindings, context));
      }
    };
  }

  @Override
  protected AstDict createAstDict(Map<AstNode, AstNode> dict) {
    return new AstDict(dict) {
      @Override
      public Object eval(Bindings bindings, ELContext context) {
        return RenderGuard.checkHeld(super.eval(bindings, context));
      }
    };
  }

  @Override
  protected AstBinary createAstBinary(AstNode left, AstNode right, AstBinary.Operator operator) {
    if (operator == AstBinary.MUL) {
      return super.createAstBinary(left, right, PyOperators.PyMul.OP);
    } else if (operator == AdditionOperator.OP) {
      return super.createAstBinary(left, right, PyOperators.PyAdd.OP);
    } else if (operator == AstBinary.AND) {
      return super.createAstBinary(left, right, PyOperators.PyAnd.OP);
    } else if (operator == AstBinary.OR) {
      return super.createAstBinary(left, right, PyOperators.PyOr.OP);
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
}
