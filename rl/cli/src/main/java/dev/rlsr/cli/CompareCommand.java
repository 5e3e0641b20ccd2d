// `rlsr compare`: pairwise win rate of one eval output over another, by the judge scores in the rows (the
// embedding judge of `rlsr eval`) or by an LLM judge behind an OpenAI-compatible endpoint.
package dev.rlsr.cli;

import dev.rlsr.eval.EvalRows;
import dev.rlsr.eval.JudgeCache;
import dev.rlsr.eval.LlmJudge;
import dev.rlsr.eval.WinRate;
import dev.rlsr.policy.util.Json;
import dev.rlsr.policy.util.RlsrException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
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

  @Option(names = "--judge-timeout", defaultValue = "120", description = "Seconds one judge request may take in"
      + " all: connect, send, and the whole reply, however slowly it arrives (default: ${DEFAULT-VALUE}).")
  double judgeTimeout;

  @Option(names = "--judge-retries", defaultValue = "4", description = "Retries of a judge request after HTTP 429,"
      + " 5xx or a failed connection, with exponential backoff (default: ${DEFAULT-VALUE}).")
  int judgeRetries;

  @Option(names = "--judge-backoff", defaultValue = "1", description = "Seconds before the first retry, doubled on"
      + " each further one up to 30; a Retry-After of up to 60 s is honoured (default: ${DEFAULT-VALUE}).")
  double judgeBackoff;

  @Option(names = "--judge-cache", paramLabel = "FILE", description = "JSONL file the LLM judgments are appended to"
      + " as they arrive; pairs already in it are not asked again, so a failed run resumes by re-running the same"
      + " command (default: A.vs-B.judge.jsonl next to A.jsonl).")
  Path judgeCache;

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
      if (!(judgeTimeout > 0) || judgeTimeout > 86_400) {
        throw new RlsrException("--judge-timeout must be a positive number of seconds (at most 86400)");
      }
      if (judgeRetries < 0 || judgeRetries > 100) {
        throw new RlsrException("--judge-retries must be between 0 and 100");
      }
      if (!(judgeBackoff >= 0) || judgeBackoff > 3600) {
        throw new RlsrException("--judge-backoff must be between 0 and 3600 seconds");
      }
      String key = null;
      if (apiKeyEnv != null) {
        key = System.getenv(apiKeyEnv);
        if (key == null || key.isBlank()) {
          throw new RlsrException("--judge-api-key-env " + apiKeyEnv + ": that environment variable is not set");
        }
      }
      var opts = new LlmJudge.Options(millis(judgeTimeout), judgeRetries, millis(judgeBackoff),
          LlmJudge.MAX_REPLY_BYTES);
      LlmJudge judge = new LlmJudge(judgeUrl, judgeModel, key, opts);
      result = llmJudge(judge, pairs);
    } else {
      double[] sa = scores(fileA, pairs.a());
      double[] sb = scores(fileB, pairs.b());
      result = WinRate.fromScores(sa, sb);
    }
    spec.commandLine().getOut().println(result.toJson().toString());
    return 0;
  }

  private static Duration millis(double seconds) {
    return Duration.ofMillis(Math.max(1, Math.round(seconds * 1000)));
  }

  /** The cache file: --judge-cache, else {@code A.vs-B.judge.jsonl} in A's directory. */
  Path cacheFile() {
    if (judgeCache != null) {
      return judgeCache;
    }
    String name = stem(fileA) + ".vs-" + stem(fileB) + ".judge.jsonl";
    Path dir = fileA.toAbsolutePath().getParent();
    return dir == null ? Path.of(name) : dir.resolve(name);
  }

  private static String stem(Path file) {
    String n = file.getFileName().toString();
    return n.endsWith(".jsonl") ? n.substring(0, n.length() - ".jsonl".length()) : n;
  }

  private WinRate llmJudge(LlmJudge judge, EvalRows.Pairs pairs) {
    Path file = cacheFile();
    for (Path input : new Path[] {fileA, fileB}) {
      if (file.toAbsolutePath().normalize().equals(input.toAbsolutePath().normalize())) {
        throw new RlsrException("--judge-cache " + file + " is one of the inputs; point it at another file");
      }
    }
    try (JudgeCache cache = JudgeCache.open(file)) {
      LlmJudge.Result r;
      try {
        r = judge.compare(pairs, referenceField, responseField, seed, cache);
      } catch (LlmJudge.Failed f) {
        WinRate p = f.partial();
        String soFar = p.n() == 0 ? "no pair judged yet"
            : String.format(Locale.ROOT, "judged %d of %d pairs so far%s: win rate so far %.3f (%d wins, %d losses,"
                + " %d ties)", p.n(), f.total(), f.cached() > 0 ? " (" + f.cached() + " from an earlier run)" : "",
                p.winRate(), p.wins(), p.losses(), p.ties());
        String saved = p.n() == 0 ? "" : "; judgments saved in " + file + "; re-run the same command to"
            + " resume";
        throw new RlsrException(f.getMessage() + "; " + soFar + saved);
      }
      if (r.cached() > 0) {
        spec.commandLine().getErr().println(r.cached() + " of " + r.winRate().n() + " judgments read from " + file);
        spec.commandLine().getErr().flush();
      }
      return r.winRate();
    }
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
