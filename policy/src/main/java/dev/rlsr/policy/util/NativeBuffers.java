// Direct (off-heap) buffers that are freed when the code using them says so, not whenever the garbage collector gets
// round to it: a tensor-sized staging buffer or an unmapped file region must not outlive its use at real model size.
package dev.rlsr.policy.util;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

public final class NativeBuffers {
  private static final Object UNSAFE;
  private static final Method INVOKE_CLEANER;

  static {
    try {
      Class<?> c = Class.forName("sun.misc.Unsafe");
      Field f = c.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      UNSAFE = f.get(null);
      INVOKE_CLEANER = c.getMethod("invokeCleaner", ByteBuffer.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError("sun.misc.Unsafe.invokeCleaner is not available: " + e);
    }
  }

  private NativeBuffers() {}

  /** A direct buffer of {@code bytes} bytes in native byte order; free it with {@link #free}. */
  public static ByteBuffer allocate(long bytes) {
    if (bytes < 0 || bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a direct buffer holds at most " + Integer.MAX_VALUE + " bytes, asked for " + bytes);
    }
    return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
  }

  /**
   * Releases the memory of a direct buffer now: one from {@link #allocate} or {@code ByteBuffer.allocateDirect}, or a
   * {@code MappedByteBuffer} from {@code FileChannel.map} (unmapped). Not for slices or views (the JDK refuses them);
   * null and heap buffers are ignored. Neither the buffer nor any view of it may be touched afterwards.
   */
  public static void free(ByteBuffer b) {
    if (b == null || !b.isDirect()) {
      return;
    }
    try {
      INVOKE_CLEANER.invoke(UNSAFE, b);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot free a direct buffer: " + e.getCause(), e);
    }
  }
}
