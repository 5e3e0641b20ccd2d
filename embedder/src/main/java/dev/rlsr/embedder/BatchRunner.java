// Packs windows into padded batches under a token budget and runs them on the encoder session, several batches at once
// when there is more than one thread.
package dev.rlsr.embedder;

import ai.onnxruntime.OrtException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Batching and threads for {@link EncoderSession#runBatch}, as the embedder's class comment describes them. */
final class BatchRunner implements AutoCloseable {
  /**
   * Padded token positions per batch at most (a single longer window still gets its own batch): long windows go in
   * smaller batches. `rlsr bench embed` on the 498 alpaca eval responses (MiniLM, 2 threads, batch size 16, one
   * session): 512 ran at 1.05-1.09x langchain4j, the earlier 16 x 128 = 2048 at 0.97x; batches of about 512 tokens
   * keep a layer's activations in cache (MiniLM's 1536-wide MLP: 3 MB).
   */
  static final int TOKENS_PER_BATCH = 512;

  private final String name;
  private final EncoderSession session;
  private final int batchSize;
  private final ExecutorService workers;

  /** {@code threads} batches run at once (no worker threads for 1); at most {@code batchSize} windows a batch. */
  BatchRunner(String name, EncoderSession session, int threads, int batchSize) {
    this.name = name;
    this.session = session;
    this.batchSize = batchSize;
    this.workers = threads > 1 ? Executors.newFixedThreadPool(threads, runnable -> {
      Thread thread = new Thread(runnable, "rlsr-embedder");
      thread.setDaemon(true);
      return thread;
    }) : null;
  }

  /**
   * The windows longest first (a stable sort: equal lengths keep their order), so that the first batch is the
   * biggest and the lengths inside a batch are close (little padding).
   */
  static List<Window> longestFirst(List<Window> windows) {
    Integer[] order = new Integer[windows.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingInt((Integer i) -> windows.get(i).ids().length).reversed());
    List<Window> sorted = new ArrayList<>(order.length);
    for (Integer i : order) {
      sorted.add(windows.get(i));
    }
    return sorted;
  }

  /**
   * The pooled vector of each window, in the order given ({@link #longestFirst} order packs best).
   *
   * @throws EmbedderException if ONNX Runtime fails or the thread is interrupted
   */
  float[][] pool(List<Window> sorted) {
    float[][] pooled = new float[sorted.size()][];
    List<int[]> ranges = new ArrayList<>();
    for (int start = 0; start < sorted.size(); ) {
      int length = sorted.get(start).ids().length;
      int size = Math.min(batchSize, Math.max(1, TOKENS_PER_BATCH / length));
      int end = Math.min(sorted.size(), start + size);
      ranges.add(new int[] {start, end});
      start = end;
    }
    try {
      if (workers == null) {
        for (int[] range : ranges) {
          session.runBatch(sorted, range[0], range[1], pooled);
        }
      } else {
        List<Future<Integer>> futures = new ArrayList<>();
        for (int[] range : ranges) {
          futures.add(workers.submit(() -> session.runBatch(sorted, range[0], range[1], pooled)));
        }
        for (Future<Integer> future : futures) {
          future.get();
        }
      }
    } catch (OrtException e) {
      throw new EmbedderException("ONNX Runtime failed running encoder " + name + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EmbedderException("interrupted while embedding with " + name, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof EmbedderException) {
        throw (EmbedderException) cause;
      }
      throw new EmbedderException("ONNX Runtime failed running encoder " + name + ": " + cause.getMessage(), cause);
    }
    return pooled;
  }

  /** Stops the worker threads. */
  @Override
  public void close() {
    if (workers != null) {
      workers.shutdownNow();
    }
  }
}
