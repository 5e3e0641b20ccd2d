// Renders a model's Jinja chat template in a sandbox, the way Hugging Face renders it in Jinja2's immutable sandbox:
// the template sees only data (str, numbers, bools, lists, dicts, None) and the methods of PyMethods, never a Java
// object, class, method or jinjava's interpreter (SandboxResolver, SandboxParser); it loads no file, classpath
// resource or URL ({% include/import/from/extends %} are refused); and it renders within TemplateLimits: nesting
// depth (checked on the source before parsing, TemplateScan), string, output and collection sizes, steps and wall
// time. A render runs on a daemon worker thread, so one that would not stop can neither hang the caller nor keep the
// JVM from exiting. Every failure is an RlsrException naming the template's source.
package dev.rlsr.policy.data;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaProcessors;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.CollectionTooBigException;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.OutputTooBigException;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import dev.rlsr.policy.util.RlsrException;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.javax.el.ExpressionFactory;

final class TemplateSandbox {
  /** Stack of a render thread: ample for the nesting limits, so those, not the stack, decide. */
  private static final long STACK_BYTES = 16L << 20;
  /** How long past the time limit the caller waits for a render that has not noticed it yet. */
  private static final long GRACE_MILLIS = 1_000;

  private static final ExecutorService WORKERS = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
      new SynchronousQueue<>(), r -> {
        Thread t = new Thread(null, r, "rlsr-chat-template", STACK_BYTES);
        t.setDaemon(true);
        return t;
      });

  /** Jinja2 semantics as transformers uses them: {{- -}} trimming, strict whitespace control, Python precedence. */
  private static final LegacyOverrides JINJA2 = LegacyOverrides.newBuilder()
      .withUseTrimmingForNotesAndExpressions(true)
      .withParseWhitespaceControlStrictly(true)
      .withUseNaturalOperatorPrecedence(true)
      .withUsePyishObjectMapper(true)
      .build();

  /** Interpreters that print {{ values }} as Jinja2 does: True/False, and lists and dicts as Python's repr. */
  private static final InterpreterFactory PRINTING_AS_PYTHON = new InterpreterFactory() {
    @Override
    public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
      return new PyInterpreter(orig);
    }

    @Override
    public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig renderConfig) {
      return new PyInterpreter(application, context, renderConfig);
    }
  };

  private static final class PyInterpreter extends JinjavaInterpreter {
    PyInterpreter(JinjavaInterpreter orig) {
      super(orig);
    }

    PyInterpreter(Jinjava application, Context context, JinjavaConfig renderConfig) {
      super(application, context, renderConfig);
    }

    @Override
    public String getAsString(Object object) {
      String py = PyJson.printed(object);
      return py != null ? py : super.getAsString(object);
    }
  }

  /** The name in jinjava's "':name' is disabled in this context". */
  private static final Pattern DISABLED_NAME = Pattern.compile("'(?:[^':]*:)?([^']+)' is disabled");

  private final String template;
  private final String source;
  private final Jinjava jinjava;
  /** Render configs by output limit (in steps of 64 Ki characters, so there are few). */
  private final Map<Long, JinjavaConfig> configs = new ConcurrentHashMap<>();

  /** Checks the template's source against the limits; throws an RlsrException naming the source if it breaks one. */
  TemplateSandbox(String template, String source) {
    TemplateScan.check(template, source);
    this.template = template;
    this.source = source;
    this.jinjava = new SandboxJinjava(config(TemplateLimits.MAX_OUTPUT_CHARS));
    jinjava.setResourceLocator((name, encoding, interpreter) -> {
      throw new IOException("rlsr's template sandbox loads no files (asked for " + name + ")");
    });
    SandboxLibrary.install(jinjava.getGlobalContext());
  }

  /**
   * The template rendered with these variables.
   *
   * @param ownChars characters of the caller's own text among the variables (the messages); strings and output may be
   *                 twice that long beyond {@link TemplateLimits#MAX_OUTPUT_CHARS}
   */
  String render(Map<String, Object> vars, long ownChars) {
    long step = 1 << 16;
    long limit = TemplateLimits.MAX_OUTPUT_CHARS + (2 * ownChars + step - 1) / step * step;
    JinjavaConfig config = configs.computeIfAbsent(limit, TemplateSandbox::config);
    RenderGuard guard = new RenderGuard(limit, TemplateLimits.MAX_RENDER_MILLIS);
    Map<String, Object> bindings = new HashMap<>(vars);
    // functions are also variables in Jinja2: Llama 3's template asks "strftime_now is defined"
    bindings.putIfAbsent("strftime_now", "<function strftime_now>");
    bindings.putIfAbsent("raise_exception", "<function raise_exception>");
    Future<RenderResult> future = WORKERS.submit(() -> {
      guard.enter();
      try {
        return jinjava.renderForResult(template, bindings, config);
      } finally {
        guard.exit();
        // a render ended by an Error may leave its interpreter as the thread's current one; the next render on this
        // pooled thread would take it for a parent and inherit its context
        while (JinjavaInterpreter.getCurrent() != null) {
          JinjavaInterpreter.popCurrent();
        }
      }
    });
    RenderResult result;
    try {
      result = future.get(TemplateLimits.MAX_RENDER_MILLIS + GRACE_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      guard.stopFromOutside("time limit");
      future.cancel(true);
      throw stopped("it ran longer than " + TemplateLimits.MAX_RENDER_MILLIS + " ms (time limit)");
    } catch (InterruptedException e) {
      guard.stopFromOutside("interrupted");
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new RlsrException(source + ": rendering the chat template was interrupted");
    } catch (ExecutionException e) {
      if (guard.stopped() != null) {
        throw stopped(guard.stopped());
      }
      throw failure(e.getCause());
    }
    if (guard.stopped() != null) {
      throw stopped(guard.stopped());
    }
    for (TemplateError e : result.getErrors()) {
      for (Throwable t = e.getException(); t != null; t = t.getCause()) {
        if (t instanceof SandboxLibrary.TemplateRaised raised) {
          throw new RlsrException(source + ": the chat template refused the messages: " + raised.getMessage());
        } else if (t instanceof StackOverflowError || t instanceof OutOfMemoryError) {
          throw failure(t);
        } else if (t instanceof OutputTooBigException) {
          throw stopped(tooLong(limit) + where(e));
        } else if (t instanceof CollectionTooBigException) {
          throw stopped("it built a list or dict of more than " + TemplateLimits.MAX_COLLECTION_SIZE
              + " items (collection size limit)" + where(e));
        }
      }
      String message = String.valueOf(e.getMessage());
      if (message.contains("OutputTooBigException") || message.contains("truncated to the max String length")) {
        throw stopped(tooLong(limit) + where(e));
      }
      if (e.getReason() == TemplateError.ErrorReason.DISABLED) {
        Matcher m = DISABLED_NAME.matcher(message);
        throw new RlsrException(source + ": chat template failed" + line(e) + ": the template uses '"
            + (m.find() ? m.group(1) : e.getFieldName()) + "', which rlsr's template sandbox does not offer");
      }
      // jinjava reports some failures as warnings and renders on (a macro past its recursion limit renders nothing);
      // only an unknown attribute or variable is harmless: it is undefined, as in Jinja2
      if (e.getSeverity() == TemplateError.ErrorType.FATAL || e.getReason() != TemplateError.ErrorReason.UNKNOWN) {
        throw new RlsrException(source + ": chat template failed" + line(e) + ": " + e.getMessage());
      }
    }
    return result.getOutput();
  }

  private static String tooLong(long limit) {
    return "its output or a string it built grew past " + limit + " characters (string and output size limit)";
  }

  private static String where(TemplateError e) {
    return e.getLineno() > 0 ? " (at template line " + e.getLineno() + ")" : "";
  }

  private static String line(TemplateError e) {
    return e.getLineno() > 0 ? " at template line " + e.getLineno() : "";
  }

  private RlsrException stopped(String reason) {
    return new RlsrException(source + ": chat template stopped: " + reason);
  }

  /** A render that died of an Error jinjava does not catch (TemplateScan keeps StackOverflowErrors rare). */
  private RlsrException failure(Throwable t) {
    if (t instanceof StackOverflowError) {
      return stopped("it nests too deeply to render (stack overflow)");
    } else if (t instanceof OutOfMemoryError) {
      return stopped("it ran out of memory");
    } else if (t instanceof RlsrException r) {
      return r;
    }
    return new RlsrException(source + ": chat template failed: " + t, t);
  }

  private static JinjavaConfig config(long maxChars) {
    return JinjavaConfig.newBuilder()
        .withTrimBlocks(true)
        .withInterperterFactory(PRINTING_AS_PYTHON)
        .withLstripBlocks(true)
        .withLegacyOverrides(JINJA2)
        .withElResolver(new SandboxResolver())
        .withDisabled(SandboxLibrary.disabled())
        .withNestedInterpretationEnabled(false)
        .withMaxOutputSize(maxChars)
        .withMaxStringLength(maxChars)
        .withMaxListSize(TemplateLimits.MAX_COLLECTION_SIZE)
        .withMaxMapSize(TemplateLimits.MAX_COLLECTION_SIZE)
        .withRangeLimit(TemplateLimits.MAX_COLLECTION_SIZE)
        .withEnableRecursiveMacroCalls(true)
        .withMaxMacroRecursionDepth(TemplateLimits.MAX_MACRO_DEPTH)
        .withProcessors(JinjavaProcessors.newBuilder().withNodePreProcessor((node, interpreter) -> RenderGuard.step())
            .build())
        .build();
  }

  /** Jinjava whose expressions are parsed by SandboxParser. */
  private static final class SandboxJinjava extends Jinjava {
    private final ExpressionFactory expressions = new ExpressionFactoryImpl(new TreeStore(
        new SandboxParser.SandboxSyntaxBuilder(Builder.Feature.METHOD_INVOCATIONS, Builder.Feature.VARARGS),
        new Cache(1000)), new TruthyTypeConverter());

    SandboxJinjava(JinjavaConfig config) {
      super(config);
    }

    @Override
    public ExpressionFactory getExpressionFactory() {
      return expressions;
    }

    @Override
    public ExpressionFactory getEagerExpressionFactory() {
      return expressions;
    }
  }
}
