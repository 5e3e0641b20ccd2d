// OUT/.rlsr.lock: one run per output directory. The lock is an OS file lock (FileChannel.tryLock), so the kernel
// drops it when the holder dies, even by SIGKILL; the file holds the holder's pid, host, start time and command
// for the refusal message. A file left behind by a killed run holds no OS lock and is taken over.
package dev.rlsr.policy.util;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

public final class RunLock implements AutoCloseable {
  public static final String FILE = ".rlsr.lock";

  /**
   * Locks this JVM holds, by lock-file real path. POSIX record locks belong to the process, and closing any channel
   * on the file drops them, so a second attempt from this JVM must be answered from here without opening the file.
   */
  private static final Map<Path, String> HELD = new ConcurrentHashMap<>();

  private final Path out;
  private final Path file;
  private final Path key;
  private final FileChannel channel;
  private final FileLock lock;
  /** The topmost directory this lock created for OUT (OUT or an ancestor), removed again when left empty; or null. */
  private final Path created;
  private boolean closed;

  private RunLock(Path out, Path file, Path key, FileChannel channel, FileLock lock, Path created) {
    this.out = out;
    this.file = file;
    this.key = key;
    this.channel = channel;
    this.lock = lock;
    this.created = created;
  }

  /**
   * Takes OUT/.rlsr.lock, creating OUT when needed (the first thing a run writes). A lock held by a live run is
   * refused at once, naming its pid, start time and command; a lock file whose holder died is taken over (with a
   * line on {@code log}).
   *
   * @param command what the holder runs, for the message another run prints (e.g. "rlsr sft --out runs/x")
   */
  public static RunLock acquire(Path out, String command, PrintWriter log) {
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new RlsrException("--out " + out + " is a file, not a directory");
    }
    Path created = null;
    for (Path p = out.toAbsolutePath().normalize(); p != null && !Files.exists(p); p = p.getParent()) {
      created = p;
    }
    Path file = out.resolve(FILE);
    try {
      Files.createDirectories(out);
      Path key = out.toRealPath().resolve(FILE);
      for (int attempt = 0; attempt < 10; attempt++) {
        String mine = HELD.get(key);
        if (mine != null) {
          throw inUse(out, parse(mine));
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        Object opened = fileKey(file);
        FileLock lock;
        try {
          lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
          lock = null;
        } catch (IOException e) { // a file system without locks: fall back on the recorded pid
          lock = null;
          Map<String, String> holder = parse(read(ch));
          if (!alive(holder)) {
            return new RunLock(out, file, key, ch, null, created).take(holder, command, log);
          }
        }
        if (lock == null) {
          Map<String, String> holder = parse(read(ch));
          ch.close();
          throw inUse(out, holder);
        }
        if (opened == null || !opened.equals(fileKey(file))) {
          // the holder removed the file between our open and our lock: we locked a deleted file, try again
          lock.release();
          ch.close();
          continue;
        }
        Map<String, String> stale = parse(read(ch));
        return new RunLock(out, file, key, ch, lock, created).take(stale, command, log);
      }
      throw new RlsrException(file + ": cannot take the lock (the file keeps changing)");
    } catch (IOException e) {
      throw new RlsrException(file + ": cannot take the run lock: " + e.getMessage(), e);
    }
  }

  /** Writes this process into the lock file (taking over from {@code stale}, a dead holder, when not empty). */
  private RunLock take(Map<String, String> stale, String command, PrintWriter log) throws IOException {
    if (!stale.isEmpty() && log != null) {
      log.println(file + ": taking over the lock of rlsr pid " + stale.getOrDefault("pid", "?") + " (started "
          + stale.getOrDefault("started", "?") + "), which no longer runs");
    }
    String content = "pid=" + ProcessHandle.current().pid() + "\nhost=" + host() + "\nstarted="
        + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "\ncommand=" + command.replace('\n', ' ') + "\n";
    channel.truncate(0);
    channel.write(ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)), 0);
    channel.force(true);
    HELD.put(key, content);
    return this;
  }

  private static RlsrException inUse(Path out, Map<String, String> holder) {
    String pid = holder.getOrDefault("pid", "?");
    StringBuilder who = new StringBuilder("started " + holder.getOrDefault("started", "?"));
    if (holder.containsKey("host") && !holder.get("host").equals(host())) {
      who.append(" on ").append(holder.get("host"));
    }
    if (holder.containsKey("command")) {
      who.append(": ").append(holder.get("command"));
    }
    return new RlsrException(out + " is in use by rlsr pid " + pid + " (" + who + "); wait for it or remove "
        + out.resolve(FILE) + " if no such process");
  }

  /** Whether the process a lock file names may still run (same host: its pid is alive; other host: assume so). */
  private static boolean alive(Map<String, String> holder) {
    if (holder.isEmpty()) {
      return false;
    }
    if (!Objects.equals(holder.get("host"), host())) {
      return true;
    }
    try {
      return ProcessHandle.of(Long.parseLong(holder.getOrDefault("pid", ""))).map(ProcessHandle::isAlive).orElse(false);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static String read(FileChannel ch) throws IOException {
    long size = Math.min(ch.size(), 1 << 16);
    ByteBuffer b = ByteBuffer.allocate((int) size);
    while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
      // fill
    }
    return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
  }

  private static Map<String, String> parse(String content) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : content.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        m.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
      }
    }
    return m;
  }

  private static Object fileKey(Path file) {
    try {
      return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  private static String host() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
    } catch (IOException | RuntimeException e) {
      try {
        return java.net.InetAddress.getLocalHost().getHostName();
      } catch (IOException e2) {
        return "localhost";
      }
    }
  }

  public Path file() {
    return file;
  }

  /**
   * Removes the lock file (while still holding the lock), releases the lock, and removes OUT (and the parents the
   * lock created for it) when this run created it and left it empty.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // a leftover file without an OS lock is taken over by the next run
    }
    HELD.remove(key);
    try {
      if (lock != null) {
        lock.release();
      }
      channel.close();
    } catch (IOException ignored) {
      // the OS drops the lock with the process anyway
    }
    if (created != null) {
      try {
        for (Path p = out.toAbsolutePath().normalize(); p != null && p.startsWith(created); p = p.getParent()) {
          if (FileTrees.isNonEmptyDir(p)) {
            break;
          }
          Files.deleteIfExists(p);
        }
      } catch (IOException ignored) {
        // an empty directory left behind is harmless
      }
    }
  }
}
