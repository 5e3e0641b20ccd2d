// A response body collected up to a byte cap, for the judge's HTTP client: past the cap it cancels the subscription
// (closing the connection) and fails with TooLarge, or keeps the first bytes of an error body.
package dev.rlsr.eval;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Collects a body up to {@code cap} bytes. Over the cap it cancels the subscription (closing the connection) and
 * fails with {@link TooLarge}, or with {@code truncate} completes with the first {@code cap} bytes.
 */
final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
  /** Signals a reply over the size cap. */
  static final class TooLarge extends IOException {
    TooLarge() {
      super("reply too large");
    }
  }

  private final CompletableFuture<byte[]> result = new CompletableFuture<>();
  private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
  private final long cap;
  private final boolean truncate;
  private final long declared;
  private volatile Flow.Subscription subscription;
  private volatile boolean cancelled;

  CappedBody(long cap, boolean truncate, long declared) {
    this.cap = cap;
    this.truncate = truncate;
    this.declared = declared;
  }

  @Override
  public CompletionStage<byte[]> getBody() {
    return result;
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription = s;
    if (cancelled) {
      s.cancel();
      return;
    }
    if (declared > cap) {
      cancel();
      result.completeExceptionally(new TooLarge());
      return;
    }
    s.request(1);
  }

  @Override
  public void onNext(List<ByteBuffer> items) {
    if (result.isDone()) {
      return;
    }
    for (ByteBuffer bb : items) {
      int take = (int) Math.min(bb.remaining(), cap - buf.size());
      byte[] chunk = new byte[take];
      bb.get(chunk);
      buf.write(chunk, 0, take);
      if (bb.hasRemaining()) {
        cancel();
        if (truncate) {
          result.complete(buf.toByteArray());
        } else {
          result.completeExceptionally(new TooLarge());
        }
        return;
      }
    }
    subscription.request(1);
  }

  @Override
  public void onError(Throwable t) {
    result.completeExceptionally(t);
  }

  @Override
  public void onComplete() {
    result.complete(buf.toByteArray());
  }

  /** Stops receiving; the client closes the connection. */
  void cancel() {
    cancelled = true;
    Flow.Subscription s = subscription;
    if (s != null) {
      s.cancel();
    }
  }
}
