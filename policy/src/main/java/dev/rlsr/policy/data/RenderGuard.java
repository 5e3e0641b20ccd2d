// The state of one sandboxed render on its worker thread: the step count and deadline it is checked against, its
// string-size limit, and, once a limit is hit or the sandbox refuses something, the reason it stopped.
package dev.rlsr.policy.data;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;

final class RenderGuard {
  private static final ThreadLocal<RenderGuard> CURRENT = new ThreadLocal<>();

  /** Longest string (and output) this render may build. */
  final long maxChars;
  private final long deadlineNanos;
  private long steps;
  private volatile String stopped;

  RenderGuard(long maxChars, long timeoutMillis) {
    this.maxChars = maxChars;
    this.deadlineNanos = System.nanoTime() + timeoutMillis * 1_000_000L;
  }

  void enter() {
    CURRENT.set(this);
  }

  void exit() {
    CURRENT.remove();
  }

  /** The guard of the render running on this thread (null outside one). */
  static RenderGuard current() {
    return CURRENT.get();
  }

  /** Why the render stopped, or null. */
  String stopped() {
    return stopped;
  }

  /** Counts one step (a node, a filter call) against the step and time limits, and stops a stopped render. */
  static void step() {
    RenderGuard g = CURRENT.get();
    if (g == null) {
      return;
    }
    if (g.stopped != null) {
      throw new TemplateAbort(g.stopped);
    }
    if (++g.steps > TemplateLimits.MAX_STEPS) {
      stop("it ran more than " + TemplateLimits.MAX_STEPS + " steps (loop limit)");
    }
    if (System.nanoTime() > g.deadlineNanos) {
      stop("it ran longer than " + TemplateLimits.MAX_RENDER_MILLIS + " ms (time limit)");
    }
  }

  /** Stops the render for a reason, from any thread (the caller's, after the deadline). */
  void stopFromOutside(String reason) {
    if (stopped == null) {
      stopped = reason;
    }
  }

  /**
   * Stops the render running on this thread: records why (the first reason wins, should jinjava swallow the throw
   * somewhere, the next step throws again) and throws.
   */
  static TemplateAbort stop(String reason) {
    RenderGuard g = CURRENT.get();
    String where = JinjavaInterpreter.getCurrentMaybe().map(JinjavaInterpreter::getLineNumber)
        .filter(l -> l > 0).map(l -> " (at template line " + l + ")").orElse("");
    if (g != null && g.stopped == null) {
      g.stopped = reason + where;
    }
    throw new TemplateAbort(g != null ? g.stopped : reason + where);
  }

  /** Checks a string length against this render's limit. */
  static void checkLength(long chars) {
    RenderGuard g = CURRENT.get();
    long max = g == null ? TemplateLimits.MAX_OUTPUT_CHARS : g.maxChars;
    if (chars > max) {
      stop("it built a string of " + chars + " characters, more than the " + max
          + " allowed (string and output size limit)");
    }
  }

  /**
   * Checks the characters a list or dict holds, through nested ones, against the string limit: jinjava turns
   * containers into strings whole (Java's toString) in many places, so [s] * 100000 with a 1 MB s would be a 100 GB
   * string.
   */
  static <T> T checkHeld(T container) {
    RenderGuard g = CURRENT.get();
    long max = g == null ? TemplateLimits.MAX_OUTPUT_CHARS : g.maxChars;
    long held = held(container, 0, max);
    if (held > max) {
      stop("it built a list or dict holding more than " + max + " characters (string and output size limit)");
    }
    return container;
  }

  /** Characters held by a value (strings by length, other scalars as 1), stopping early once past {@code max}. */
  static long held(Object o, int depth, long max) {
    if (o instanceof CharSequence s) {
      return s.length();
    } else if (!(o instanceof java.util.Collection || o instanceof java.util.Map || o instanceof Object[])) {
      return 1;
    } else if (depth > TemplateLimits.MAX_NESTING) {
      return Long.MAX_VALUE / 4; // deeper than anything real (or cyclic): too big
    }
    Iterable<?> items = o instanceof java.util.Map<?, ?> m ? m.entrySet() : o instanceof Object[] a
        ? java.util.Arrays.asList(a) : (java.util.Collection<?>) o;
    long sum = 0;
    for (Object item : items) {
      sum += item instanceof java.util.Map.Entry<?, ?> e
          ? held(e.getKey(), depth + 1, max) + held(e.getValue(), depth + 1, max) : held(item, depth + 1, max);
      if (sum > max) {
        return sum;
      }
    }
    return sum + 1;
  }

  /** Checks a list or dict size against the limit. */
  static void checkSize(long items) {
    if (items > TemplateLimits.MAX_COLLECTION_SIZE) {
      stop("it built a list or dict of " + items + " items, more than the " + TemplateLimits.MAX_COLLECTION_SIZE
          + " allowed (collection size limit)");
    }
  }

  /**
   * Ends a render. An Error, not an Exception: jinjava turns the exceptions it catches into template errors and renders
   * on, but lets Errors through, so the render really ends.
   */
  static final class TemplateAbort extends Error {
    TemplateAbort(String message) {
      super(message, null, false, false);
    }
  }
}
