// Fail before, not after: a run's memory plan checked against the memory available before anything is loaded, and
// the one message an out-of-memory condition ends with (what ran out, the plan, the flag to lower, the checkpoint).
package dev.rlsr.cli;

import ai.onnxruntime.OrtException;
import dev.rlsr.policy.checkpoint.Checkpoints;
import dev.rlsr.policy.model.ModelConfig;
import dev.rlsr.policy.util.RlsrException;
import dev.rlsr.train.AvailableMemory;
import dev.rlsr.train.MemoryPlan;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.tensorflow.exceptions.TFResourceExhaustedException;

final class MemoryGuard {
  /** The guard of the command running on this thread; set by {@link #check}, cleared before each command. */
  private static final ThreadLocal<MemoryGuard> CURRENT = new ThreadLocal<>();
  /** Heap set aside when a run starts and dropped when the heap runs out, so the message can still be put together. */
  private static final int RESERVE_BYTES = 8 << 20;
  /** How ONNX Runtime words a failed allocation (its BFC arena, or the C++ allocator's bad_alloc). */
  private static final Pattern ORT_ALLOCATION = Pattern.compile(
      "(?i)failed to allocate|bad_alloc|bad allocation|out of memory");
  /** The launcher's variable for the heap (see ./rlsr). */
  static final String HEAP_VARIABLE = "RLSR_HEAP";

  private final String command;
  private final String plan;
  private final String available;
  private final String lower;
  private final String heap;
  private final List<Path> checkpointRoots;
  @SuppressWarnings("unused") // held only to be dropped
  private byte[] reserve = new byte[RESERVE_BYTES];

  private MemoryGuard(String command, MemoryPlan plan, AvailableMemory available, List<Path> checkpointRoots) {
    this.command = command;
    this.plan = "The memory plan put this run at " + plan.summary();
    this.available = available.known()
        ? MemoryPlan.gib(available.bytes()) + " GiB available (" + available.source() + ")"
        : "the memory available unknown (" + available.source() + "; --memory-limit states it)";
    var run = plan.run();
    this.lower = "lower " + run.rowsFlag() + " or " + run.tokensFlag()
        + (run.rollout() != null ? ", --generation-batch-size" : "")
        + ", or free memory: other processes may have taken what the plan counted on";
    this.heap = heapAdvice(Math.max(plan.heapNeeded(), Runtime.getRuntime().maxMemory() * 3 / 2));
    this.checkpointRoots = List.copyOf(checkpointRoots);
  }

  /**
   * Prints the plan's one-line summary, refuses (naming the numbers and the flag to change) when one of
   * {@code plans} needs more than {@code limit} allows or more heap than -Xmx gives, and installs the guard whose
   * message an out-of-memory condition in this command ends with.
   *
   * @param plans           the run's plans (train with --sft-steps: its SFT phase's and its RLSR phase's)
   * @param checkpointRoots run directories whose checkpoints/LATEST an out-of-memory message names, first found first
   */
  static void check(String command, List<MemoryPlan> plans, MemoryLimitMixin limit, PrintWriter log,
      List<Path> checkpointRoots) {
    AvailableMemory available = limit.available();
    MemoryPlan largest = MemoryPlan.larger(plans);
    log.println("memory: " + largest.summary() + "; " + (available.known()
        ? MemoryPlan.gib(available.bytes()) + " GiB available (" + available.source() + ")"
        : "the memory available is unknown (" + available.source() + "): --memory-limit states it"));
    log.flush();
    for (MemoryPlan p : plans) {
      if (available.known() && p.total() > available.bytes()) {
        throw new RlsrException(refusal(command, p, available));
      }
    }
    long maxHeap = Runtime.getRuntime().maxMemory();
    for (MemoryPlan p : plans) {
      if (p.heapNeeded() > maxHeap) {
        throw new RlsrException("rlsr " + command + ": this run needs about " + MemoryPlan.gib(p.heapNeeded())
            + " GiB of Java heap at its checkpoints (weights and moments stream through it one tensor at a time; the"
            + " largest is " + MemoryPlan.gib(MemoryPlan.largestTensorBytes(p.config())) + " GiB) but the heap is capped at " + MemoryPlan.gib(maxHeap) + " GiB: "
            + heapAdvice(p.heapNeeded()));
      }
    }
    CURRENT.set(new MemoryGuard(command, largest, available, checkpointRoots));
  }

  /** "rlsr sft: this run needs about 23.4 GiB ... but 20.0 GiB is available (MemAvailable): lower --batch-size to 2". */
  static String refusal(String command, MemoryPlan p, AvailableMemory available) {
    long avail = available.bytes();
    String head = "rlsr " + command + ": this run needs " + p.summary() + " but " + MemoryPlan.gib(avail)
        + " GiB is available (" + available.source()
        + (available.source().startsWith("--memory-limit") ? "" : "; --memory-limit states it") + ")";
    List<String> fixes = new ArrayList<>(p.fixes(avail));
    // a heap capped just above what the checkpoints need, where the cap is what the plan counts for the heap
    long cap = ((p.heapNeeded() >> 30) + 1) << 30;
    if (cap < p.maxHeap()) {
      MemoryPlan h = p.withHeap(cap);
      String heap = "start rlsr with " + HEAP_VARIABLE + "=" + (cap >> 30) + "g (a heap just large enough for the"
          + " checkpoints)";
      if (h.total() <= avail) {
        fixes.add(heap.replace(")", ": about " + MemoryPlan.gib(h.total()) + " GiB)"));
      } else if (fixes.isEmpty() && !h.fixes(avail).isEmpty()) {
        fixes.add(heap + " and " + h.fixes(avail).get(0));
      }
    }
    if (!fixes.isEmpty()) {
      return head + ": " + String.join(", or ", fixes);
    }
    var run = p.run();
    var smallest = p.with(run.withRows(1).withTokens(Math.min(run.tokens(), run.rollout() == null ? 16
        : run.rollout().promptTokens() + 1)));
    return head + ": even at " + run.rowsFlag() + " 1 and the shortest rows it needs about "
        + MemoryPlan.gib(smallest.total()) + " GiB (" + smallest.largest(3) + "): this model needs a machine with"
        + " more memory (or raise --memory-limit if more is free than that says)";
  }

  private static String heapAdvice(long needed) {
    long gib = (needed + (1L << 30) - 1) >> 30;
    return "start rlsr with a larger heap, e.g. " + HEAP_VARIABLE + "=" + (gib + 1) + "g ./rlsr ... (the launcher's"
        + " default is half the memory; RLSR_JAVA_OPTS replaces every JVM option)";
  }

  /** Forgets the guard of an earlier command on this thread (each command installs its own). */
  static void clear() {
    CURRENT.remove();
  }

  /**
   * The message a run that ran out of memory ends with, or null when {@code t} is not an out-of-memory condition: a
   * Java {@link OutOfMemoryError} (heap, direct buffers, or native memory through JavaCPP), TensorFlow's
   * {@link TFResourceExhaustedException}, or an ONNX Runtime allocation failure, also as the cause of another
   * exception. Built from the parts {@link #check} prepared; the heap reserve is dropped first.
   */
  static String outOfMemory(Throwable t, String commandName) {
    RanOut what = whatRanOut(t);
    if (what == null) {
      return null;
    }
    MemoryGuard g = CURRENT.get();
    if (g == null) {
      return "rlsr " + commandName + " ran out of memory: " + what.text() + "; " + switch (what.kind()) {
        case HEAP -> heapAdvice(Runtime.getRuntime().maxMemory() * 3 / 2);
        case DIRECT -> DIRECT_ADVICE;
        case NATIVE -> "free memory, or give it smaller inputs";
      };
    }
    g.reserve = null;
    StringBuilder sb = new StringBuilder(1024);
    sb.append("rlsr ").append(g.command).append(" ran out of memory: ").append(what.text()).append(". ");
    sb.append(g.plan).append(", with ").append(g.available).append(": ");
    sb.append(switch (what.kind()) {
      case HEAP -> g.heap;
      case DIRECT -> DIRECT_ADVICE;
      case NATIVE -> g.lower;
    }).append(". ");
    sb.append(g.lastCheckpoint());
    return sb.toString();
  }

  /** What a JVM limit on direct buffers (ONNX Runtime's weights, the rollout engine's inputs) asks for. */
  private static final String DIRECT_ADVICE = "raise -XX:MaxDirectMemorySize in RLSR_JAVA_OPTS, or leave it out (the"
      + " launcher's default does not bound direct buffers: the memory plan counts them)";

  /** The kinds of memory that run out, each with its own advice. */
  enum Kind { HEAP, DIRECT, NATIVE }

  /** What ran out: its kind and, in words, what was asked for. */
  record RanOut(Kind kind, String text) {}

  /** "The last checkpoint, OUT/checkpoints/step-00000004, is whole: rerun with --resume to continue from it." */
  private String lastCheckpoint() {
    for (Path root : checkpointRoots) {
      Path latest = root.resolve(Checkpoints.DIR).resolve(Checkpoints.LATEST);
      try {
        if (Files.isRegularFile(latest)) {
          Path dir = latest.resolveSibling(Files.readString(latest).trim());
          if (Files.isDirectory(dir)) {
            return "The last checkpoint, " + dir + ", is whole: rerun with --resume to continue from it.";
          }
        }
      } catch (java.io.IOException | RuntimeException e) {
        // fall through: no checkpoint to name
      }
    }
    return "No checkpoint was written yet (a partly written one is removed when the next run starts).";
  }

  /** What ran out, or null when {@code t} and its causes are no out-of-memory condition. */
  static RanOut whatRanOut(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof OutOfMemoryError e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("Java heap") || m.contains("GC overhead") || m.contains("array size")) {
          return new RanOut(Kind.HEAP, "the Java heap is full (-Xmx " + MemoryPlan.gib(Runtime.getRuntime().maxMemory())
              + " GiB: " + m + ")");
        }
        if (m.contains("direct buffer") || m.contains("Direct buffer")) {
          return new RanOut(Kind.DIRECT, "the JVM's limit on direct buffers was reached (" + firstLine(m) + ")");
        }
        return new RanOut(Kind.NATIVE, "native memory ran out (" + firstLine(m) + ")");
      }
      if (c instanceof TFResourceExhaustedException e) {
        return new RanOut(Kind.NATIVE, "TensorFlow could not allocate a tensor (" + firstLine(e.getMessage()) + ")");
      }
      if (c instanceof OrtException e && e.getMessage() != null && ORT_ALLOCATION.matcher(e.getMessage()).find()) {
        return new RanOut(Kind.NATIVE, "ONNX Runtime could not allocate memory (" + firstLine(e.getMessage()) + ")");
      }
    }
    return null;
  }

  private static String firstLine(String m) {
    if (m == null) {
      return "no message";
    }
    String line = m.strip().lines().findFirst().orElse("");
    return line.length() > 240 ? line.substring(0, 240) + "..." : line;
  }

  /** The plan of {@code run} on a model of config {@code c} under this JVM's heap cap. */
  static MemoryPlan plan(ModelConfig c, MemoryPlan.Run run) {
    return MemoryPlan.of(c, run, Runtime.getRuntime().maxMemory());
  }

  /**
   * What a reward encoder takes: a built-in one's measured size, for a directory its ONNX files times
   * {@link MemoryPlan#EMBEDDER_FILE_COPIES}, for a decoder embedder directory (no ONNX files, config.json) its float32
   * weights times {@link MemoryPlan#EMBEDDER_DECODER_WEIGHT_COPIES} (only the safetensors header is read).
   */
  static long embedderBytes(String nameOrDir) {
    Path dir = Path.of(nameOrDir);
    if (!Files.isDirectory(dir)) {
      return MemoryPlan.EMBEDDER_BUILT_IN_BYTES;
    }
    long onnx = 0;
    try (var files = Files.walk(dir, 2)) {
      onnx = files.filter(f -> f.getFileName().toString().contains(".onnx") && Files.isRegularFile(f))
          .mapToLong(f -> f.toFile().length()).sum();
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      // unreadable: SentenceEmbedder.load names the problem
    }
    if (onnx == 0 && Files.isRegularFile(dir.resolve("config.json"))) { // a decoder embedder rlsr builds
      try (var weights = dev.rlsr.policy.checkpoint.SafetensorsSource.openModelDir(dir)) {
        return MemoryPlan.ORT_SESSION_BYTES
            + (long) (MemoryPlan.EMBEDDER_DECODER_WEIGHT_COPIES * weights.numel() * Float.BYTES);
      } catch (RuntimeException e) {
        // no or broken weights: SentenceEmbedder.load names the problem
      }
    }
    return MemoryPlan.ORT_SESSION_BYTES + (long) (MemoryPlan.EMBEDDER_FILE_COPIES * onnx);
  }

  /** The run directories whose checkpoints an out-of-memory message names: {@code out}, then its sub-runs. */
  static List<Path> roots(Path out, String... subRuns) {
    List<Path> roots = new ArrayList<>();
    roots.add(out);
    for (String s : subRuns) {
      roots.add(out.resolve(s));
    }
    return roots;
  }
}
