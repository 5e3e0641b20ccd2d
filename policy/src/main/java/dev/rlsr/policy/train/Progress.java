// A progress bar with ETA on stderr (me.tongfei.progressbar), with a short extra message such as the loss.
package dev.rlsr.policy.train;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

public final class Progress implements AutoCloseable {
  private final ProgressBar bar;

  public Progress(String task, long total, long start) {
    bar = new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(total)
        .startsFrom(start, java.time.Duration.ZERO)
        .setStyle(ProgressBarStyle.ASCII)
        .setUpdateIntervalMillis(500)
        .setConsumer(new ConsoleProgressBarConsumer(System.err))
        .build();
  }

  public void step(long done, String message) {
    bar.stepTo(done);
    bar.setExtraMessage(message);
  }

  @Override
  public void close() {
    bar.close();
  }
}
