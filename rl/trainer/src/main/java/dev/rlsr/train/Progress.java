// A progress bar with ETA on stderr (me.tongfei.progressbar), with a short extra message such as the loss.
// On a terminal it redraws one line; in a log (no console) it prints a plain line every 10 seconds instead.
package dev.rlsr.train;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
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
        .setUpdateIntervalMillis(System.console() != null ? 500 : 10_000)
        .setConsumer(System.console() != null
            ? new ConsoleProgressBarConsumer(System.err)
            : new DelegatingProgressBarConsumer(System.err::println))
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
