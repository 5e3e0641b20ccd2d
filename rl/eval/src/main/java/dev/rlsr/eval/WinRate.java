// Pairwise win rate of system A over system B: wins, losses and ties (a tie counts half) over matched prompts.
package dev.rlsr.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;

/**
 * @param invalid pairs an LLM judge gave no readable verdict for; they are counted as ties
 */
public record WinRate(int wins, int losses, int ties, int invalid) {
  /** Two scores closer than this are a tie. */
  public static final double TIE_EPSILON = 1e-6;

  public int n() {
    return wins + losses + ties;
  }

  /** (wins + ties / 2) / n; 0.5 means no difference. */
  public double winRate() {
    return n() == 0 ? Double.NaN : (wins + 0.5 * ties) / n();
  }

  /** Counts A's wins over B from per-pair scores (higher is better), ties within {@link #TIE_EPSILON}. */
  public static WinRate fromScores(double[] a, double[] b) {
    int w = 0;
    int l = 0;
    int t = 0;
    for (int i = 0; i < a.length; i++) {
      double d = a[i] - b[i];
      if (Math.abs(d) < TIE_EPSILON) {
        t++;
      } else if (d > 0) {
        w++;
      } else {
        l++;
      }
    }
    return new WinRate(w, l, t, 0);
  }

  public ObjectNode toJson() {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("win_rate", winRate());
    n.put("wins", wins);
    n.put("losses", losses);
    n.put("ties", ties);
    n.put("n", n());
    if (invalid > 0) {
      n.put("invalid", invalid);
    }
    return n;
  }
}
