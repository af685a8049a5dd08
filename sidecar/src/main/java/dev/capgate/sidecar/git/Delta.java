package dev.capgate.sidecar.git;

/**
 * Git's pack delta format: a base size, a result size, then copy-from-base and insert instructions.
 * Only commits are rebuilt from deltas here (their parents are what a fast-forward proof needs), so
 * results are small; a delta that does not fit its base is malformed.
 */
final class Delta {
  private Delta() {}

  static byte[] apply(byte[] base, byte[] delta, int maxResult) throws MalformedPackException {
    int[] at = {0};
    long baseSize = varint(delta, at);
    long resultSize = varint(delta, at);
    if (baseSize != base.length) {
      throw new MalformedPackException("a delta does not fit its base");
    }
    if (resultSize > maxResult) {
      throw new MalformedPackException("a delta result is larger than " + maxResult + " bytes");
    }
    byte[] out = new byte[(int) resultSize];
    int o = 0;
    int i = at[0];
    while (i < delta.length) {
      int op = delta[i++] & 0xff;
      if ((op & 0x80) != 0) {
        long offset = 0;
        long length = 0;
        for (int bit = 0; bit < 4; bit++) {
          if ((op & (1 << bit)) != 0) {
            offset |= (long) byteAt(delta, i++) << (8 * bit);
          }
        }
        for (int bit = 0; bit < 3; bit++) {
          if ((op & (0x10 << bit)) != 0) {
            length |= (long) byteAt(delta, i++) << (8 * bit);
          }
        }
        if (length == 0) {
          length = 0x10000;
        }
        if (offset + length > base.length || o + length > out.length) {
          throw new MalformedPackException("a delta copies outside its base or result");
        }
        System.arraycopy(base, (int) offset, out, o, (int) length);
        o += (int) length;
      } else if (op != 0) {
        if (i + op > delta.length || o + op > out.length) {
          throw new MalformedPackException("a delta inserts past its end");
        }
        System.arraycopy(delta, i, out, o, op);
        i += op;
        o += op;
      } else {
        throw new MalformedPackException("a delta holds the reserved instruction 0");
      }
    }
    if (o != out.length) {
      throw new MalformedPackException("a delta result is shorter than announced");
    }
    return out;
  }

  private static int byteAt(byte[] delta, int i) throws MalformedPackException {
    if (i >= delta.length) {
      throw new MalformedPackException("a delta ends inside an instruction");
    }
    return delta[i] & 0xff;
  }

  private static long varint(byte[] delta, int[] at) throws MalformedPackException {
    long value = 0;
    int shift = 0;
    int b;
    do {
      if (shift > 56) {
        throw new MalformedPackException("a delta size is too large");
      }
      b = byteAt(delta, at[0]++);
      value |= (long) (b & 0x7f) << shift;
      shift += 7;
    } while ((b & 0x80) != 0);
    return value;
  }
}
