// Test helper: a raw-socket HTTP/1.1 server on 127.0.0.1 playing a chat-completions judge that misbehaves on
// purpose (trickles, streams forever, fails with 503, sends escape codes). One response per connection.
package dev.rlsr.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlsr.policy.util.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

final class MisbehavingJudge implements AutoCloseable {
  /** Writes the whole response for request number {@code n} (1-based) whose user message is {@code user}. */
  interface Handler {
    void handle(int n, String user, OutputStream out) throws IOException, InterruptedException;
  }

  private final ServerSocket server;
  private final List<Socket> sockets = new ArrayList<>();
  final AtomicInteger requests = new AtomicInteger();
  /** Handlers that have not returned yet (a streaming one returns when the client closes the connection). */
  final AtomicInteger running = new AtomicInteger();
  /** Body bytes the streaming handlers got written. */
  final AtomicLong streamed = new AtomicLong();

  MisbehavingJudge(Handler handler) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(() -> {
      while (!server.isClosed()) {
        Socket s;
        try {
          s = server.accept();
        } catch (IOException e) {
          return;
        }
        synchronized (sockets) {
          sockets.add(s);
        }
        running.incrementAndGet();
        Thread t = new Thread(() -> serve(s, handler), "judge-conn");
        t.setDaemon(true);
        t.start();
      }
    }, "judge-accept");
    accept.setDaemon(true);
    accept.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  String endpoint() {
    return url() + "/v1/chat/completions";
  }

  private void serve(Socket s, Handler handler) {
    try (s) {
      String user = readRequest(s.getInputStream());
      int n = requests.incrementAndGet();
      handler.handle(n, user, s.getOutputStream());
      s.getOutputStream().flush();
    } catch (IOException e) {
      // the client went away
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      running.decrementAndGet();
    }
  }

  /** Reads one request and returns its user message. */
  private static String readRequest(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int last4 = 0;
    while (last4 != 0x0D0A0D0A) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("eof in headers");
      }
      head.write(c);
      last4 = last4 << 8 | c;
    }
    int length = 0;
    for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(line.indexOf(':') + 1).strip());
      }
    }
    byte[] body = in.readNBytes(length);
    JsonNode req = Json.MAPPER.readTree(body);
    return req.path("messages").path(1).path("content").asText();
  }

  /** A complete response with this status, extra header lines ("Name: value") and body. */
  static void respond(OutputStream out, int status, String body, String... headers) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    StringBuilder h = new StringBuilder("HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\n"
        + "Connection: close\r\nContent-Length: " + b.length + "\r\n");
    for (String x : headers) {
      h.append(x).append("\r\n");
    }
    out.write(h.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
    out.write(b);
  }

  /** A chat completion whose message content is {@code content}. */
  static String completion(String content) {
    ObjectNode reply = Json.MAPPER.createObjectNode();
    reply.putArray("choices").addObject().putObject("message").put("role", "assistant").put("content", content);
    return reply.toString();
  }

  /** Headers of a chunked 200, then {@code chunk} every {@code pauseMs} until the client closes the connection. */
  void stream(OutputStream out, byte[] chunk, long pauseMs) throws IOException, InterruptedException {
    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    byte[] size = (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
    byte[] crlf = "\r\n".getBytes(StandardCharsets.ISO_8859_1);
    while (true) {
      out.write(size);
      out.write(chunk);
      out.write(crlf);
      out.flush();
      streamed.addAndGet(chunk.length);
      if (pauseMs > 0) {
        Thread.sleep(pauseMs);
      }
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    synchronized (sockets) {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
