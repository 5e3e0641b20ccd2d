// How a sandboxed chat template reads attributes and calls methods: items of dicts and lists, characters of strings,
// the loop variable's fields, the Python methods of PyMethods, and jinjava's own filter and test calls. Every other
// attribute of any object is undefined and every other method call stops the render, so a template never reaches a
// Java object, class, method or the interpreter (jinjava's default resolver calls any public Java method; that is the
// route of CVE-2025-59340 and CVE-2026-25526).
package dev.rlsr.policy.data;

import com.hubspot.jinjava.el.TypeConvertingMapELResolver;
import com.hubspot.jinjava.el.ext.JinjavaListELResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.util.ForLoop;
import java.beans.FeatureDescriptor;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.ArrayELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;
import jinjava.javax.el.PropertyNotWritableException;

final class SandboxResolver extends ELResolver {
  private final ELResolver maps = new TypeConvertingMapELResolver(true);
  private final ELResolver lists = new JinjavaListELResolver(true);
  private final ELResolver arrays = new ArrayELResolver(true);

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    if (base == null) {
      return null;
    }
    context.setPropertyResolved(true);
    Object b = base instanceof SafeString ? base.toString() : base;
    if (b instanceof Map) {
      return maps.getValue(context, b, property);
    } else if (b instanceof List) {
      return lists.getValue(context, b, property);
    } else if (b.getClass().isArray()) {
      return arrays.getValue(context, b, property);
    } else if (b instanceof String s) {
      return charAt(s, property);
    } else if (b instanceof ForLoop loop) {
      return loopField(loop, String.valueOf(property));
    }
    return null; // undefined, like a missing attribute in Jinja2
  }

  @Override
  @SuppressWarnings("unchecked")
  public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
    if (base == null) {
      return null;
    }
    context.setPropertyResolved(true);
    String name = String.valueOf(method);
    Object[] p = params == null ? new Object[0] : params;
    JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
    if (base instanceof Filter f && name.equals("filter") && p.length == 4 && p[2] instanceof Object[] args
        && p[3] instanceof Map<?, ?> kwargs) {
      return f.filter(p[0], interpreter, args, (Map<String, Object>) kwargs);
    } else if (base instanceof ExpTest t && (name.equals("evaluate") || name.equals("evaluateNegated"))
        && p.length >= 2) {
      Object[] rest = Arrays.copyOfRange(p, 2, p.length);
      return name.equals("evaluate") ? t.evaluate(p[0], interpreter, rest) : t.evaluateNegated(p[0], interpreter, rest);
    } else if (base instanceof ForLoop loop && name.equals("cycle")) {
      return loop.cycle(p);
    }
    Object b = base instanceof SafeString ? base.toString() : base;
    if (b instanceof String s && PyMethods.STR.contains(name)) {
      return PyMethods.str(s, name, p);
    } else if (b instanceof Map<?, ?> m && PyMethods.DICT.contains(name)) {
      return PyMethods.dict(m, name, p);
    } else if (b instanceof List<?> l && PyMethods.LIST.contains(name)) {
      return PyMethods.list(l, name, p);
    }
    throw PyMethods.noMethod(b, name);
  }

  /** {@code s[i]}: the character at a Python index, or undefined. */
  private static Object charAt(String s, Object property) {
    Long index = property instanceof Number n && !(property instanceof Double) && !(property instanceof Float)
        ? Long.valueOf(n.longValue()) : null;
    if (property instanceof String p && p.matches("-?\\d{1,9}")) {
      index = Long.parseLong(p); // jinjava passes s[1]'s index as "1"
    }
    if (index != null) {
      long i = index;
      if (i < 0) {
        i += s.length();
      }
      return i >= 0 && i < s.length() ? String.valueOf(s.charAt((int) i)) : null;
    }
    return null;
  }

  /** The fields of Jinja2's loop variable that jinjava has. */
  private static Object loopField(ForLoop loop, String field) {
    return switch (field) {
      case "index" -> loop.getIndex();
      case "index0" -> loop.getIndex0();
      case "revindex" -> loop.getRevindex();
      case "revindex0" -> loop.getRevindex0();
      case "first" -> loop.isFirst();
      case "last" -> loop.isLast();
      case "length" -> loop.getLength();
      case "depth" -> loop.getDepth();
      case "depth0" -> loop.getDepth0();
      default -> null;
    };
  }

  @Override
  public Class<?> getType(ELContext context, Object base, Object property) {
    if (base != null) {
      context.setPropertyResolved(true);
    }
    return null;
  }

  @Override
  public void setValue(ELContext context, Object base, Object property, Object value) {
    if (base != null) {
      throw new PropertyNotWritableException("chat templates cannot assign to attributes (use namespace())");
    }
  }

  @Override
  public boolean isReadOnly(ELContext context, Object base, Object property) {
    if (base != null) {
      context.setPropertyResolved(true);
    }
    return true;
  }

  @Override
  public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
    return Collections.emptyIterator();
  }

  @Override
  public Class<?> getCommonPropertyType(ELContext context, Object base) {
    return Object.class;
  }
}
