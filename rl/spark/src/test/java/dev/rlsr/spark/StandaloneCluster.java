// Test fixture: a Spark standalone master and N workers as separate local JVMs bound to 127.0.0.1, started from
// this test's class path and stopped (with their executors) on close. Executors are JVMs of their own.
package dev.rlsr.spark;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

final class StandaloneCluster implements AutoCloseable {
  final String masterUrl;
  final Path dir;
  private final int webUi;
  private final List<Process> daemons = new ArrayList<>();

  /**
   * Starts the master and {@code workers} workers of one core and {@code workerMemory} each. The executors the
   * workers launch get this test's class path ({@code spark.executor.extraClassPath}, set by the caller through
   * {@link #executorClassPath}); SPARK_HOME is an empty distribution directory, as the worker's launcher needs one.
   */
  StandaloneCluster(Path dir, int workers, String workerMemory) throws Exception {
    this.dir = dir;
    Path home = dir.resolve("spark-home");
    Files.createDirectories(home.resolve("jars"));
    int port = freePort();
    masterUrl = "spark://127.0.0.1:" + port;
    webUi = freePort();
    daemons.add(start("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
        String.valueOf(port), "--webui-port", String.valueOf(webUi)), home));
    waitForPort(port, 60_000);
    for (int w = 0; w < workers; w++) {
      Path work = dir.resolve("worker-" + w);
      Files.createDirectories(work);
      daemons.add(start("worker-" + w, List.of("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
          "--cores", "1", "--memory", workerMemory, "--work-dir", work.toString(), "--webui-port",
          String.valueOf(freePort()), masterUrl), home));
    }
  }

  static String executorClassPath() {
    return System.getProperty("java.class.path");
  }

  private Process start(String name, List<String> mainAndArgs, Path home) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "@" + Path.of("java17-options.txt").toAbsolutePath(), "-cp", System.getProperty("java.class.path")));
    cmd.addAll(mainAndArgs);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve(name + ".log").toFile());
    pb.environment().put("SPARK_HOME", home.toString());
    pb.environment().put("SPARK_SCALA_VERSION", "2.13");
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    return pb.start();
  }

  /** Waits until {@code n} workers are ALIVE at the master (its web UI's JSON says so). */
  void awaitWorkers(int n, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    String state = "";
    while (System.currentTimeMillis() < deadline) {
      try (var in = java.net.URI.create("http://127.0.0.1:" + webUi + "/json/").toURL().openStream()) {
        state = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (dev.rlsr.policy.util.Json.MAPPER.readTree(state).path("aliveworkers").asInt() >= n) {
          return;
        }
      } catch (IOException notYet) {
        // the master's web UI is not up yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("workers did not register in time: " + state + " " + Files.readString(dir.resolve("master.log")));
  }

  /** The live executor JVMs the workers launched (CoarseGrainedExecutorBackend), oldest first. */
  List<ProcessHandle> executors() {
    List<ProcessHandle> out = new ArrayList<>();
    for (Process d : daemons) {
      d.toHandle().children().filter(h -> h.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend"))
          .forEach(out::add);
    }
    return out;
  }

  /** The stderr files of every executor the workers launched (work-dir/app/exec/stderr). */
  List<Path> executorLogs() throws IOException {
    List<Path> logs = new ArrayList<>();
    try (Stream<Path> s = Files.walk(dir)) {
      s.filter(p -> p.getFileName().toString().equals("stderr")).forEach(logs::add);
    }
    return logs;
  }

  Optional<String> executorLogContaining(String text) throws IOException {
    for (Path p : executorLogs()) {
      String s = Files.readString(p);
      if (s.contains(text)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  @Override
  public void close() throws Exception {
    for (int i = daemons.size() - 1; i >= 0; i--) {
      Process d = daemons.get(i);
      d.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
      d.destroy();
      if (!d.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        d.destroyForcibly();
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void waitForPort(int port, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException e) {
        Thread.sleep(200);
      }
    }
    throw new AssertionError("the Spark master did not listen on " + port + " in time");
  }
}
