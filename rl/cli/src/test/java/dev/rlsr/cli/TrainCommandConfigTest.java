// rlsr train --config FILE is read strictly: a key given twice, a list/mapping/null value or a second document is
// refused naming the file and key, before anything is loaded.
package dev.rlsr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(60)
class TrainCommandConfigTest {
  @TempDir Path tmp;

  private Cli.Run train(String name, String content) throws Exception {
    Path cfg = Files.writeString(tmp.resolve(name), content);
    return Cli.run("train", "--config", cfg.toString(), "--out", tmp.resolve("out").toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "run.yaml|'iterations: 2\\nbeta: 0.0\\niterations: 3\\n'|option \"iterations\" is given twice",
      "run.json|'{\"iterations\": 2, \"iterations\": 3}'|option \"iterations\" is given twice",
      "run.yaml|'num_generations: 4\\nnum-generations: 8\\n'|option \"num-generations\" is given twice (also as \"num_generations\")",
      "run.yaml|'iterations: [1, 2]\\n'|option \"iterations\" must be a single value (a string, number or boolean), got array",
      "run.json|'{\"iterations\": [1, 2]}'|option \"iterations\" must be a single value (a string, number or boolean), got array",
      "run.yaml|'beta:\\n  value: 0.1\\n'|option \"beta\" must be a single value (a string, number or boolean), got object",
      "run.yaml|'beta:\\n'|option \"beta\" must be a single value (a string, number or boolean), got null",
      "run.json|'{\"iterations\": 2} {\"beta\": 0}'|not valid JSON",
      "run.yaml|'iterations: 2\\n---\\nbeta: 0.0\\n'|not valid YAML",
  })
  void wronglyShapedConfigIsRefusedNamingFileAndKey(String name, String content, String message) throws Exception {
    Cli.Run r = train(name, content.replace("\\n", "\n"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: " + tmp.resolve(name) + ": ").contains(message)
        .doesNotContain("\tat ").doesNotContain("Exception");
    assertThat(tmp.resolve("out")).doesNotExist();
  }
}
