// The bounds a model's chat template renders within. Each is declared and explained once, here; each one that is
// hit ends the render with an RlsrException naming the template's source and the limit.
package dev.rlsr.policy.data;

final class TemplateLimits {
  private TemplateLimits() {}

  /** Characters of template source. Real chat templates are far smaller (Qwen3's: 4 KB; big tool-calling ones: ~20 KB). */
  static final int MAX_TEMPLATE_CHARS = 256 * 1024;

  /**
   * Depth of nested blocks ({@code {% if %}}, {@code {% for %}}, {@code {% macro %}}, ...) and, separately, of nested
   * brackets {@code ( [ {} in one tag or expression; checked on the source before jinjava parses it, so its recursive
   * parser and renderer stay far from the end of the thread's stack. Real templates nest fewer than 10 deep.
   */
  static final int MAX_NESTING = 64;

  /**
   * Operator symbols, filter bars and not/and/or in one tag or expression, checked on the source with the nesting:
   * a flat chain such as 60,000 {@code not}s or {@code |trim}s has no brackets but becomes a parse tree as deep as
   * the chain, which would overflow the render thread's stack (or not, depending on the JIT). Real templates use
   * fewer than 50 in their longest tag.
   */
  static final int MAX_OPERATORS = 1_000;

  /**
   * Characters of rendered output, and of any one string the template builds, beyond twice the messages' own text
   * (so a long prompt can never hit it): 1 MiB. Real chat templates add a few hundred characters per message.
   */
  static final long MAX_OUTPUT_CHARS = 1 << 20;

  /**
   * Items in one list or dict the template builds, and the largest {@code range()}: Jinja2's sandbox allows as many.
   * (A list or dict may also hold no more characters, through nested ones, than {@link #MAX_OUTPUT_CHARS} allows.)
   */
  static final int MAX_COLLECTION_SIZE = 100_000;

  /** Width or count argument of center, indent, truncate, wordwrap, batch, slice, and of printf widths in format. */
  static final int MAX_WIDTH = 100_000;

  /**
   * Template nodes (text, tags, expressions, filter calls) evaluated in one render; bounds loops. Qwen3's template
   * evaluates about 40 per message.
   */
  static final long MAX_STEPS = 1_000_000;

  /** Wall time of one render. A real one takes milliseconds. */
  static final long MAX_RENDER_MILLIS = 5_000;

  /** Depth of macro calls within macro calls. */
  static final int MAX_MACRO_DEPTH = 64;
}
