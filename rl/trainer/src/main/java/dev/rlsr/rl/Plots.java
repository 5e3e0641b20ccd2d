// PNG plots of a run's metrics.jsonl (reward, KL, completion length over iterations) with XChart.
package dev.rlsr.rl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.MetricsLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

public final class Plots {
  private Plots() {}

  /** Writes reward.png, kl.png and completion_length.png into dir; returns their paths. */
  public static List<Path> write(Path metricsJsonl, Path dir) {
    List<JsonNode> rows = MetricsLog.read(metricsJsonl);
    List<Path> out = new ArrayList<>();
    try {
      Files.createDirectories(dir);
      out.add(plot(rows, dir.resolve("reward.png"), "Reward (embedding cosine to the reference)", "reward_mean"));
      out.add(plot(rows, dir.resolve("kl.png"), "KL to the reference model (k3)", "kl"));
      out.add(plot(rows, dir.resolve("completion_length.png"), "Completion length (tokens)", "completion_length_mean"));
    } catch (IOException e) {
      throw new RlsrException(dir + ": cannot write plots: " + e.getMessage(), e);
    }
    return out;
  }

  private static Path plot(List<JsonNode> rows, Path file, String title, String key) throws IOException {
    List<Double> x = new ArrayList<>();
    List<Double> y = new ArrayList<>();
    for (JsonNode r : rows) {
      if (r.hasNonNull(key) && r.get(key).isNumber()) {
        x.add(r.path("iteration").asDouble());
        y.add(r.get(key).asDouble());
      }
    }
    XYChart chart = new XYChartBuilder().width(640).height(400).title(title).xAxisTitle("iteration").yAxisTitle(key).build();
    chart.getStyler().setLegendVisible(false);
    chart.getStyler().setMarkerSize(3);
    if (x.isEmpty()) {
      x.add(0.0);
      y.add(0.0);
    }
    chart.addSeries(key, x, y);
    BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    return file;
  }
}
