// Text from a judge server made safe to print or store: terminal escape sequences and control characters removed,
// and one-line excerpts of it for error messages and the judge cache.
package dev.rlsr.eval;

final class ServerText {
  private ServerText() {}

  /**
   * {@code s} without terminal escape sequences and control characters: CSI sequences ({@code ESC [} or C1 CSI up
   * to the final byte), OSC/DCS/APC/PM strings (up to BEL or ST), other two-character ESC sequences, and then every
   * remaining C0 (except newline and tab), DEL and C1 character. Everything printed or stored from the server goes
   * through this.
   */
  static String clean(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    int n = s.length();
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      char next = i + 1 < n ? s.charAt(i + 1) : 0;
      if (c == 0x1b && next == '[' || c == 0x9b) {
        i += c == 0x9b ? 1 : 2;
        while (i < n && s.charAt(i) >= 0x20 && s.charAt(i) <= 0x3f) {
          i++; // parameter and intermediate bytes
        }
        if (i < n && s.charAt(i) >= 0x40 && s.charAt(i) <= 0x7e) {
          i++; // final byte
        }
      } else if (c == 0x1b && (next == ']' || next == 'P' || next == '_' || next == '^')
          || c == 0x9d || c == 0x90 || c == 0x9f || c == 0x9e) {
        i += c == 0x1b ? 2 : 1;
        while (i < n) {
          char d = s.charAt(i);
          if (d == 0x07 || d == 0x9c) {
            i++;
            break;
          }
          if (d == 0x1b && i + 1 < n && s.charAt(i + 1) == '\\') {
            i += 2;
            break;
          }
          i++;
        }
      } else if (c == 0x1b) {
        i += next >= 0x20 && next <= 0x7e ? 2 : 1;
      } else if ((c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7f && c <= 0x9f)) {
        i++;
      } else {
        sb.append(c);
        i++;
      }
    }
    return sb.toString();
  }

  /** A one-line, cleaned, at most {@code max}-character excerpt of {@code s}. */
  static String snippet(String s, int max) {
    String one = clean(s).replaceAll("\\s+", " ").strip();
    return one.length() <= max ? one : one.substring(0, max - 3) + "...";
  }
}
