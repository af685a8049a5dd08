package dev.capgate.sidecar.git;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;

/**
 * The part of a push body after its ref update commands (push options, if the client announced
 * {@code push-options}, then the pack), held without copying: retained slices of the chunks that
 * also wait to go upstream. Bounded: past {@code max} bytes nothing more is held. Whoever takes the
 * bytes ({@link #take}) releases them; {@link #release} drops what was not taken.
 */
public final class PushPack {
  private final long max;
  private final boolean pushOptions;
  private CompositeByteBuf bytes = Unpooled.compositeBuffer(Integer.MAX_VALUE);
  private long length;
  private boolean over;

  public PushPack(long max, boolean pushOptions) {
    this.max = max;
    this.pushOptions = pushOptions;
  }

  /** Holds {@code chunk}'s readable bytes from {@code from} on (the chunk is not consumed). */
  public void add(ByteBuf chunk, int from) {
    int n = chunk.readableBytes() - from;
    if (over || bytes == null || n <= 0) {
      return;
    }
    length += n;
    if (length > max + 64 * 1024) { // the push options come first; bounded like the commands
      over = true;
      release();
      return;
    }
    bytes.addComponent(true, chunk.retainedSlice(chunk.readerIndex() + from, n));
  }

  /** Whether the body went past the bound (the bytes are no longer held). */
  public boolean over() {
    return over;
  }

  public long length() {
    return length;
  }

  /**
   * The pack, the push options skipped: the caller owns (and releases) the buffer.
   *
   * @throws MalformedPackException when the push options are not pkt-lines ended by a flush, or the
   *     pack is over the bound once they are skipped
   */
  public ByteBuf take() throws MalformedPackException {
    ByteBuf pack = bytes;
    bytes = null;
    try {
      if (pushOptions) {
        skipPktLines(pack);
      }
      if (pack.readableBytes() > max) {
        over = true;
        throw new MalformedPackException("pack larger than " + max + " bytes");
      }
      return pack;
    } catch (MalformedPackException e) {
      pack.release();
      throw e;
    }
  }

  /** Drops the held bytes that were not taken (safe to call again). */
  public void release() {
    if (bytes != null) {
      bytes.release();
      bytes = null;
    }
  }

  private static void skipPktLines(ByteBuf in) throws MalformedPackException {
    while (true) {
      if (in.readableBytes() < 4) {
        throw new MalformedPackException("the push options end early");
      }
      int size = 0;
      for (int i = 0; i < 4; i++) {
        int digit = Character.digit(in.readByte(), 16);
        if (digit < 0) {
          throw new MalformedPackException("the push options are not pkt-lines");
        }
        size = size * 16 + digit;
      }
      if (size == 0) {
        return;
      }
      if (size < 4 || in.readableBytes() < size - 4) {
        throw new MalformedPackException("the push options are not pkt-lines");
      }
      in.skipBytes(size - 4);
    }
  }
}
