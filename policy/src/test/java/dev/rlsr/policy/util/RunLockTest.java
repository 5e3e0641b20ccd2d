// OUT/.rlsr.lock: a second run on the same OUT is refused at once naming the holder's pid, in this JVM and from
// another process; a lock left by a killed process is taken over; the file (and an OUT the lock created) goes on close.
package dev.rlsr.policy.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class RunLockTest {
  @TempDir Path tmp;

  /** A child process: takes the lock on args[0], prints "locked", then waits until killed. */
  public static final class Holder {
    public static void main(String[] args) throws Exception {
      RunLock lock = RunLock.acquire(Path.of(args[0]), "rlsr test-holder", null);
      System.out.println("locked " + ProcessHandle.current().pid());
      System.out.flush();
      Thread.sleep(600_000);
      lock.close();
    }
  }

  @Test
  void aSecondLockInThisJvmIsRefusedAndTheFileGoesOnClose() throws Exception {
    Path out = tmp.resolve("run");
    Files.createDirectories(out);
    Files.writeString(out.resolve("metrics.jsonl"), "{}\n");
    try (RunLock lock = RunLock.acquire(out, "rlsr sft --out " + out, null)) {
      String content = Files.readString(out.resolve(RunLock.FILE));
      assertThat(content).contains("pid=" + ProcessHandle.current().pid()).contains("started=")
          .contains("host=").contains("command=rlsr sft --out");
      assertThatThrownBy(() -> RunLock.acquire(out, "rlsr train", null))
          .isInstanceOf(RlsrException.class)
          .hasMessageContaining(out + " is in use by rlsr pid " + ProcessHandle.current().pid())
          .hasMessageContaining("(started ")
          .hasMessageContaining("wait for it or remove " + out.resolve(RunLock.FILE) + " if no such process");
      assertThat(Files.readString(out.resolve(RunLock.FILE))).isEqualTo(content); // the refusal wrote nothing
    }
    assertThat(out.resolve(RunLock.FILE)).doesNotExist();
    assertThat(out.resolve("metrics.jsonl")).exists(); // an OUT that existed stays
    try (RunLock again = RunLock.acquire(out, "rlsr sft", null)) {
      assertThat(again.file()).exists();
    }
  }

  @Test
  void anOutTheLockCreatedIsRemovedWhenLeftEmptyAndAFileIsRefused() throws Exception {
    Path out = tmp.resolve("fresh/runs/a");
    try (RunLock lock = RunLock.acquire(out, "rlsr sft", null)) {
      assertThat(out).isDirectory();
    }
    assertThat(tmp.resolve("fresh")).doesNotExist();
    assertThat(tmp).isDirectory();
    Path file = Files.writeString(tmp.resolve("f"), "x");
    assertThatThrownBy(() -> RunLock.acquire(file, "rlsr sft", null)).hasMessage("--out " + file + " is a file, not a directory");
    assertThat(Files.readString(file)).isEqualTo("x");
  }

  @Test
  void aStaleLockFileIsTakenOver() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("run"));
    Files.writeString(out.resolve(RunLock.FILE), "pid=999999999\nhost=elsewhere\nstarted=2020-01-01T00:00:00Z\ncommand=rlsr train\n");
    StringWriter log = new StringWriter();
    try (RunLock lock = RunLock.acquire(out, "rlsr sft", new PrintWriter(log, true))) {
      assertThat(log.toString()).contains("taking over the lock of rlsr pid 999999999").contains("no longer runs");
      assertThat(Files.readString(out.resolve(RunLock.FILE))).contains("pid=" + ProcessHandle.current().pid());
    }
  }

  @Test
  void aLockHeldByAnotherProcessIsRefusedAndTakenOverOnceItIsKilled() throws Exception {
    Path out = tmp.resolve("shared-out");
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), Holder.class.getName(), out.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line = r.readLine();
      assertThat(line).as("child output").startsWith("locked ");
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> RunLock.acquire(out, "rlsr sft", null))
          .hasMessageContaining("is in use by rlsr pid " + p.pid())
          .hasMessageContaining("rlsr test-holder");
      assertThat((System.nanoTime() - t0) / 1e9).as("refused at once").isLessThan(5);
      p.destroyForcibly(); // SIGKILL: the file stays, the OS lock goes
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(out.resolve(RunLock.FILE)).exists();
      StringWriter log = new StringWriter();
      try (RunLock lock = RunLock.acquire(out, "rlsr sft", new PrintWriter(log, true))) {
        assertThat(log.toString()).contains("taking over the lock of rlsr pid " + p.pid());
      }
    } finally {
      p.destroyForcibly();
    }
  }
}
