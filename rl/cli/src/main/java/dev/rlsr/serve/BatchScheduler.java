// Batches the requests of `rlsr serve`: those that arrive together are decoded together, up to --max-batch-size
// rows, in one ONNX Runtime run with a KV cache; each row keeps its own options and streams its tokens.
package dev.rlsr.serve;

import dev.rlsr.export.runtime.OrtRolloutEngine;
import dev.rlsr.policy.rollout.Rollout;
import dev.rlsr.policy.rollout.SamplingOptions;
import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One decoding thread owns the engine. It takes the oldest waiting request, waits up to {@code batchWaitMillis} for
 * more, and takes waiting requests in arrival order while their rows fit in {@code maxRows} (a request's rows, its
 * n choices, are never split). The batch is one {@link OrtRolloutEngine#sample(List, List,
 * dev.rlsr.policy.rollout.DecodeState.TokenListener)} call: rows are left-padded together, each draws from its own
 * seed, and stops at its own EOS, stop string or max_tokens. Requests arriving while a batch runs wait for the next
 * one. Each batch writes one log line ("batch 3: 16 rows from 16 requests, ...").
 */
public final class BatchScheduler implements AutoCloseable {
  /** Where one row's tokens go; called on the decoding thread, so each call must be quick and must not block. */
  public interface RowSink {
    /** A token was chosen for this row; false ends the row here (a stop string, a client gone). */
    boolean onToken(int token);

    /** The row is done: its tokens, log-probs and whether it ended on an EOS token. */
    void onFinish(Rollout rollout);

    /** The batch failed; no more calls follow. */
    void onFail(RuntimeException e);
  }

  /** One row: a prompt's ids and its options (max new tokens, temperature, top-p, seed, EOS ids). */
  public record Row(int[] prompt, SamplingOptions options, RowSink sink) {}

  private final OrtRolloutEngine engine;
  private final int maxRows;
  private final long batchWaitNanos;
  private final PrintWriter log;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition arrived = lock.newCondition();
  private final Deque<List<Row>> waiting = new ArrayDeque<>();
  private final AtomicLong batches = new AtomicLong();
  private final Thread worker;
  private boolean closed;

  public BatchScheduler(OrtRolloutEngine engine, int maxRows, long batchWaitMillis, PrintWriter log) {
    if (maxRows < 1) {
      throw new IllegalArgumentException("maxRows must be at least 1");
    }
    this.engine = engine;
    this.maxRows = maxRows;
    this.batchWaitNanos = TimeUnit.MILLISECONDS.toNanos(batchWaitMillis);
    this.log = log;
    this.worker = new Thread(this::loop, "rlsr-serve-decoder");
    worker.setDaemon(true);
    worker.start();
  }

  public int maxRows() {
    return maxRows;
  }

  /** Batches run so far. */
  public long batches() {
    return batches.get();
  }

  /**
   * Queues one request's rows (at most {@link #maxRows}); their sinks hear back on the decoding thread.
   *
   * @throws ApiError 503 once the scheduler is closing
   */
  public void submit(List<Row> rows) {
    if (rows.isEmpty() || rows.size() > maxRows) {
      throw new IllegalArgumentException(rows.size() + " rows for a batch of at most " + maxRows);
    }
    lock.lock();
    try {
      if (closed) {
        throw new ApiError(503, "the server is shutting down", null, null);
      }
      waiting.addLast(List.copyOf(rows));
      arrived.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void loop() {
    while (true) {
      List<List<Row>> batch = next();
      if (batch == null) {
        return;
      }
      run(batch);
    }
  }

  /** The next batch: the oldest request, then those that arrive within the wait and fit; null once closed. */
  private List<List<Row>> next() {
    lock.lock();
    try {
      while (waiting.isEmpty()) {
        if (closed) {
          return null;
        }
        arrived.awaitUninterruptibly();
      }
      List<List<Row>> batch = new ArrayList<>();
      int rows = 0;
      long deadline = System.nanoTime() + batchWaitNanos;
      while (true) {
        while (!waiting.isEmpty() && rows + waiting.peekFirst().size() <= maxRows) {
          List<Row> r = waiting.pollFirst();
          batch.add(r);
          rows += r.size();
        }
        long left = deadline - System.nanoTime();
        if (rows == maxRows || !waiting.isEmpty() || left <= 0 || closed) {
          return batch;  // full, the next request does not fit, or the wait is over
        }
        try {
          arrived.awaitNanos(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return batch;
        }
      }
    } finally {
      lock.unlock();
    }
  }

  private void run(List<List<Row>> requests) {
    List<Row> rows = new ArrayList<>();
    requests.forEach(rows::addAll);
    List<int[]> prompts = new ArrayList<>(rows.size());
    List<SamplingOptions> options = new ArrayList<>(rows.size());
    int shortest = Integer.MAX_VALUE;
    int longest = 0;
    for (Row r : rows) {
      prompts.add(r.prompt());
      options.add(r.options());
      shortest = Math.min(shortest, r.prompt().length);
      longest = Math.max(longest, r.prompt().length);
    }
    long n = batches.incrementAndGet();
    long t0 = System.nanoTime();
    List<Rollout> out;
    try {
      out = engine.sample(prompts, options, (row, token) -> rows.get(row).sink().onToken(token));
    } catch (RuntimeException e) {
      log.printf("rlsr serve: batch %d of %d rows failed: %s%n", n, rows.size(), e.getMessage());
      log.flush();
      rows.forEach(r -> r.sink().onFail(e));
      return;
    }
    long generated = 0;
    for (int i = 0; i < rows.size(); i++) {
      generated += out.get(i).tokens().length;
      rows.get(i).sink().onFinish(out.get(i));
    }
    double s = (System.nanoTime() - t0) / 1e9;
    log.printf("rlsr serve: batch %d: %d rows from %d requests, prompts %d-%d tokens, %d new tokens in %.2f s "
        + "(%.1f tokens/s)%n", n, rows.size(), requests.size(), shortest, longest, generated, s, generated / s);
    log.flush();
  }

  /**
   * Stops taking requests, fails those still waiting with 503, and waits for the running batch to end (up to
   * {@code timeoutMillis}).
   */
  public void close(long timeoutMillis) {
    List<List<Row>> dropped;
    lock.lock();
    try {
      closed = true;
      dropped = new ArrayList<>(waiting);
      waiting.clear();
      arrived.signalAll();
    } finally {
      lock.unlock();
    }
    ApiError e = new ApiError(503, "the server is shutting down", null, null);
    dropped.forEach(rows -> rows.forEach(r -> r.sink().onFail(e)));
    try {
      worker.join(timeoutMillis);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    close(60_000);
  }
}
