package dev.capgate.sidecar.http;

import io.netty.buffer.ByteBuf;

/**
 * Reads the start (or all) of a request body before the exchange may connect upstream: a git push's
 * ref update commands and pack ({@link ReceivePackGate}), an MCP message ({@link McpGate}). {@link
 * RequestBody} feeds it every chunk while it is {@link #reading()}, and holds the chunks themselves
 * until the verdict.
 */
interface BodyGate {
  /** A chunk of the body; the gate copies what it needs, the chunk stays the caller's. */
  void feed(ByteBuf chunk);

  void endOfBody();

  /** Whether the body is still needed to decide. */
  boolean reading();

  /** True once, when the verdict is there and was not yet handed to the exchange. */
  boolean takeVerdict();

  /** The exchange ended: drop what the gate holds (a push's pack being read). */
  default void release() {}
}
