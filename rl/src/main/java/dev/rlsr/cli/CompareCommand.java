// `rlsr compare`: pairwise win rate of one eval output over another, by the judge scores in the rows (the
// embedding judge of `rlsr eval`) or by an LLM judge behind an OpenAI-compatible endpoint.
package dev.rlsr.cli;

import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.rl.eval.EvalRows;
import dev.rlsr.rl.eval.LlmJudge;
import dev.rlsr.rl.eval.WinRate;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Win rate of A over B on the same eval set, printed as JSON"
        + " {\"win_rate\",\"wins\",\"losses\",\"ties\",\"n\"}; a tie counts half.",
        "Rows are matched by prompt (by row index when prompts repeat). Without --judge-url a win is the row with"
            + " the higher --judge-field (ties: |difference| < 1e-6)."})
public final class CompareCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "A.jsonl", description = "Eval output of system A (rows with prompt, reference, response, judge_reward).")
  Path fileA;

  @Parameters(index = "1", paramLabel = "B.jsonl", description = "Eval output of system B on the same prompts.")
  Path fileB;

  @Option(names = "--judge-field", defaultValue = "judge_reward", description = "Numeric row field to compare, higher wins (default: ${DEFAULT-VALUE}).")
  String judgeField;

  @Option(names = "--judge-url", description = "Judge with an LLM at this OpenAI-compatible endpoint (http://host:port, .../v1 or .../v1/chat/completions) instead of --judge-field.")
  String judgeUrl;

  @Option(names = "--judge-model", defaultValue = "judge", description = "The request's model name for --judge-url (default: ${DEFAULT-VALUE}).")
  String judgeModel;

  @Option(names = "--judge-api-key-env", description = "Name of an environment variable holding an API key for --judge-url (sent as a Bearer token).")
  String apiKeyEnv;

  @Option(names = "--judge-timeout", defaultValue = "60", description = "Seconds per judge request (default: ${DEFAULT-VALUE}).")
  int judgeTimeout;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the per-pair A/B order shown to the LLM judge (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--reference-field", defaultValue = "reference", description = "Row field with the reference answer (default: ${DEFAULT-VALUE}).")
  String referenceField;

  @Option(names = "--response-field", defaultValue = "response", description = "Row field with the system's answer (default: ${DEFAULT-VALUE}).")
  String responseField;

  @Override
  public Integer call() {
    var a = EvalRows.read(fileA);
    var b = EvalRows.read(fileB);
    EvalRows.Pairs pairs = EvalRows.match(fileA, a, fileB, b);
    WinRate result;
    if (judgeUrl != null) {
      if (judgeTimeout < 1) {
        throw new RlsrException("--judge-timeout must be at least 1 second");
      }
      String key = null;
      if (apiKeyEnv != null) {
        key = System.getenv(apiKeyEnv);
        if (key == null || key.isBlank()) {
          throw new RlsrException("--judge-api-key-env " + apiKeyEnv + ": that environment variable is not set");
        }
      }
      LlmJudge judge = new LlmJudge(judgeUrl, judgeModel, key, Duration.ofSeconds(judgeTimeout));
      result = judge.compare(pairs, referenceField, responseField, seed);
    } else {
      double[] sa = scores(fileA, pairs.a());
      double[] sb = scores(fileB, pairs.b());
      result = WinRate.fromScores(sa, sb);
    }
    spec.commandLine().getOut().println(result.toJson().toString());
    return 0;
  }

  private double[] scores(Path file, java.util.List<EvalRows.Row> rows) {
    double[] s = new double[rows.size()];
    for (int i = 0; i < s.length; i++) {
      var v = rows.get(i).json().get(judgeField);
      if (v == null || !v.isNumber() || !Double.isFinite(v.asDouble())) {
        throw new RlsrException(file + " line " + rows.get(i).line() + ": no numeric \"" + judgeField + "\" field"
            + " (run `rlsr eval` with a judge, or pick another --judge-field)");
      }
      s[i] = v.asDouble();
    }
    return s;
  }
}
