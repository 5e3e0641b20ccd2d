// Python's operators in the template sandbox's expressions, where jinjava's differ: str/list repetition ('-' * 3),
// list concatenation within the size limits, and slices with a step (messages[::-1]); SandboxParser builds them.
package dev.rlsr.policy.data;

import com.hubspot.jinjava.util.ObjectTruthValue;
import com.hubspot.jinjava.el.ext.AdditionOperator;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import jinjava.de.odysseus.el.misc.NumberOperations;
import jinjava.de.odysseus.el.misc.TypeConverter;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstRightValue;
import jinjava.javax.el.ELContext;

final class PyOperators {
  private PyOperators() {}

  /** Python's {@code *}: numbers multiply; a str or list times an int repeats (within the size limits). */
  static final class PyMul extends AstBinary.SimpleOperator {
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
  static final class PyAdd extends AdditionOperator {
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
  static final class PySlice extends AstRightValue {
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

  /** Python's {@code and}: the left operand when it is falsy, else the right one ('' and 'x' is ''). */
  static final class PyAnd implements AstBinary.Operator {
    static final PyAnd OP = new PyAnd();

    @Override
    public Object eval(Bindings bindings, ELContext context, AstNode left, AstNode right) {
      Object l = left.eval(bindings, context);
      return ObjectTruthValue.evaluate(l) ? right.eval(bindings, context) : l;
    }

    @Override
    public String toString() {
      return "&&";
    }
  }

  /** Python's {@code or}: the left operand when it is truthy, else the right one (none or 'x' is 'x'). */
  static final class PyOr implements AstBinary.Operator {
    static final PyOr OP = new PyOr();

    @Override
    public Object eval(Bindings bindings, ELContext context, AstNode left, AstNode right) {
      Object l = left.eval(bindings, context);
      return ObjectTruthValue.evaluate(l) ? l : right.eval(bindings, context);
    }

    @Override
    public String toString() {
      return "||";
    }
  }
}
