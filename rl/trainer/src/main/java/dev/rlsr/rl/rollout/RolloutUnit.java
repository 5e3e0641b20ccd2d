// One sampling call's worth of an iteration's rollouts: whole prompt groups (G rows each), with each row's place
// (prompt slot, completion index) that its sampling seed comes from. The unit of work of every rollout stage.
package dev.rlsr.rl.rollout;

import java.io.Serializable;
import java.util.List;

/**
 * Rows of one engine call, in order. Row {@code r} samples a continuation of {@code prompts.get(r)} with the seed
 * {@link RowSeeds#of}(run seed, iteration, {@code slots[r]}, {@code completions[r]}) and is scored against
 * {@code references.get(r)}. A unit is what a Spark task computes; the local stage computes the same units one after
 * another, so both return the same tokens, log-probs and rewards bit for bit.
 *
 * @param index       place of the unit in its iteration (results are put back in this order)
 * @param slots       per row: the prompt's slot in the iteration, 0..P-1
 * @param completions per row: the completion's index in its group, 0..G-1
 * @param prompts     per row: the prompt's token ids
 * @param references  per row: the reference response the reward compares with
 */
public record RolloutUnit(int index, int[] slots, int[] completions, List<int[]> prompts, List<String> references)
    implements Serializable {
  public RolloutUnit {
    if (slots.length != prompts.size() || completions.length != prompts.size() || references.size() != prompts.size()) {
      throw new IllegalArgumentException("a rollout unit needs one slot, completion index, prompt and reference per"
          + " row: " + slots.length + ", " + completions.length + ", " + prompts.size() + ", " + references.size());
    }
    prompts = List.copyOf(prompts);
    references = List.copyOf(references);
  }

  public int rows() {
    return prompts.size();
  }

  /**
   * An iteration's rows cut into units of {@code rowsPerUnit} rows (whole groups of {@code g}), in row order: row
   * {@code p * g + k} is completion k of the prompt in slot p.
   */
  public static List<RolloutUnit> split(List<int[]> promptOfSlot, List<String> referenceOfSlot, int g, int rowsPerUnit) {
    if (rowsPerUnit <= 0 || rowsPerUnit % g != 0) {
      throw new IllegalArgumentException("units hold whole groups of " + g + " rows, not " + rowsPerUnit);
    }
    int rows = promptOfSlot.size() * g;
    List<RolloutUnit> units = new java.util.ArrayList<>();
    for (int from = 0; from < rows; from += rowsPerUnit) {
      int n = Math.min(rowsPerUnit, rows - from);
      int[] slots = new int[n];
      int[] ks = new int[n];
      List<int[]> prompts = new java.util.ArrayList<>(n);
      List<String> refs = new java.util.ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        int row = from + i;
        slots[i] = row / g;
        ks[i] = row % g;
        prompts.add(promptOfSlot.get(slots[i]));
        refs.add(referenceOfSlot.get(slots[i]));
      }
      units.add(new RolloutUnit(units.size(), slots, ks, prompts, refs));
    }
    return units;
  }
}
