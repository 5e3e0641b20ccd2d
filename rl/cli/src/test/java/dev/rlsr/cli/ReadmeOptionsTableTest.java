// The README's table "RLSR options and their defaults" against the defaults `rlsr train` declares (its picocli
// CommandSpec, default-value provider included): a row whose default differs from the code's, or that names a flag
// train does not have, fails.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

class ReadmeOptionsTableTest {
  static final String SECTION = "## RLSR options and their defaults";
  private static final Pattern FLAG = Pattern.compile("`(--[a-z0-9-]+)`");
  private static final Pattern FOLLOWS = Pattern.compile("\\(default: (--[a-z0-9-]+)");

  /** One flag of a row and the default the README gives it. */
  record Row(String flag, String readmeDefault) {}

  @Test
  void everyDefaultInTheReadmeTableIsTheDefaultOfRlsrTrain() throws IOException {
    List<Row> rows = rows(Files.readString(readme()));
    assertThat(rows).as("rows of the README table").hasSizeGreaterThan(10);
    assertThat(mismatches(rows, train())).isEmpty();
  }

  @Test
  void aTableThatDisagreesWithTheCodeIsCaught() {
    String md = "# x\n\n" + SECTION + "\n\n| option | default | why |\n|---|---|---|\n"
        + "| `--num-generations` (G) | 8 | ok |\n"
        + "| `--beta` | 0.4 | wrong |\n"
        + "| `--epsilon` / `--epsilon-high` | 0.2 / 0.3 | the second is wrong |\n"
        + "| `--no-such-flag` | 1 | unknown |\n\n## Next\n\n| `--iterations` | 7 | another section |\n";
    List<Row> rows = rows(md);
    assertThat(rows).extracting(Row::flag)
        .containsExactly("--num-generations", "--beta", "--epsilon", "--epsilon-high", "--no-such-flag");
    assertThat(mismatches(rows, train())).containsExactly(
        "--beta: README 0.4, code 0.04",
        "--epsilon-high: README 0.3, code 0.2",
        "--no-such-flag: README 1, but rlsr train has no such option");
  }

  @Test
  void defaultsFromTheProviderAndFromAnotherOptionAreResolved() {
    CommandSpec train = train();
    assertThat(codeDefault(train, "--learning-rate")).isEqualTo(dev.rlsr.rl.GrpoConfig.DEFAULT_LEARNING_RATE);
    assertThat(codeDefault(train, "--schedule")).isEqualTo(dev.rlsr.rl.GrpoConfig.DEFAULT_SCHEDULE);
    assertThat(codeDefault(train, "--epsilon-high")).isEqualTo(dev.rlsr.rl.GrpoConfig.DEFAULT_EPSILON);
  }

  private static CommandSpec train() {
    return Main.commandLine().getSubcommands().get("train").getCommandSpec();
  }

  /** README.md of the repository (tests run in a module directory below it). */
  static Path readme() throws IOException {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path f = dir.resolve("README.md");
      if (Files.isRegularFile(f) && Files.readString(f).contains(SECTION)) {
        return f;
      }
    }
    throw new AssertionError("no README.md with \"" + SECTION + "\" above " + Path.of("").toAbsolutePath());
  }

  /** The flags and defaults of the table in {@link #SECTION}: "| `--a` / `--b` (X) | 1 / 2 | why |" gives two rows. */
  static List<Row> rows(String markdown) {
    int at = markdown.indexOf(SECTION);
    assertThat(at).as("README section " + SECTION).isNotNegative();
    List<Row> rows = new ArrayList<>();
    String[] lines = markdown.substring(at + SECTION.length()).split("\n");
    for (String line : lines) {
      if (line.startsWith("## ")) {
        break;
      }
      if (!line.startsWith("|") || line.startsWith("|---") || line.startsWith("| option ")) {
        continue;
      }
      String[] cells = line.split("\\|");
      List<String> flags = new ArrayList<>();
      Matcher m = FLAG.matcher(cells[1]);
      while (m.find()) {
        flags.add(m.group(1));
      }
      String[] defaults = cells[2].trim().split("\\s*/\\s*");
      assertThat(defaults).as("defaults of the row " + line).hasSameSizeAs(flags);
      for (int i = 0; i < flags.size(); i++) {
        rows.add(new Row(flags.get(i), defaults[i].replace("`", "").trim()));
      }
    }
    return rows;
  }

  /** One line per row whose default is not the code's. */
  static List<String> mismatches(List<Row> rows, CommandSpec train) {
    List<String> out = new ArrayList<>();
    for (Row r : rows) {
      if (train.findOption(r.flag()) == null) {
        out.add(r.flag() + ": README " + r.readmeDefault() + ", but rlsr train has no such option");
        continue;
      }
      String code = codeDefault(train, r.flag());
      if (!same(r.readmeDefault(), code)) {
        out.add(r.flag() + ": README " + r.readmeDefault() + ", code " + code);
      }
    }
    return out;
  }

  /**
   * The default --help shows for {@code flag}: the provider's or the annotation's; an option without one whose
   * description says "(default: --other" has the default of that other option.
   */
  static String codeDefault(CommandSpec train, String flag) {
    OptionSpec o = train.findOption(flag);
    String d = o.defaultValueString();
    if (d == null || d.equals("null")) {
      Matcher m = FOLLOWS.matcher(String.join(" ", o.description()));
      return m.find() ? codeDefault(train, m.group(1)) : null;
    }
    return d;
  }

  /** Numbers compare by value (1e-6 = 0.000001, 2 = 2.0), anything else ignoring case. */
  static boolean same(String readme, String code) {
    if (code == null) {
      return false;
    }
    try {
      return new BigDecimal(readme).compareTo(new BigDecimal(code)) == 0;
    } catch (NumberFormatException e) {
      return readme.toLowerCase(Locale.ROOT).equals(code.toLowerCase(Locale.ROOT));
    }
  }
}
