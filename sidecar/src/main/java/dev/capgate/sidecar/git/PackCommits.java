package dev.capgate.sidecar.git;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The commits of a pushed pack and their parents, which is all a fast-forward proof needs. Every
 * entry is inflated (a pack has no lengths: the end of one zlib stream is the start of the next
 * entry), but only commits are kept; their ids are computed here, so a pack cannot claim one it
 * does not hold. Deltas are rebuilt when their base is a commit of the pack ({@code OFS_DELTA}, or
 * {@code REF_DELTA} naming one); a delta whose base is not in the pack (a thin pack's base on the
 * server) stays unresolved: if it was a commit, the proof cannot pass through it.
 */
public final class PackCommits {
  /** Commits are small; a bigger one (or delta of one) is not kept and counts as unresolved. */
  static final int MAX_COMMIT_BYTES = 1024 * 1024;

  /** Deltas whose base comes later (or never) are kept up to this much in all. */
  private static final long MAX_PENDING_BYTES = 16L * 1024 * 1024;

  private static final int COMMIT = 1;
  private static final int OFS_DELTA = 6;
  private static final int REF_DELTA = 7;
  private static final int UNKNOWN = 0;

  private final Map<String, List<String>> parents;
  private final int objects;
  private final int unresolved;

  private PackCommits(Map<String, List<String>> parents, int objects, int unresolved) {
    this.parents = parents;
    this.objects = objects;
    this.unresolved = unresolved;
  }

  /** The parents of commit {@code id}, or null when the pack does not hold it. */
  public List<String> parentsOf(String id) {
    return parents.get(id);
  }

  public int commits() {
    return parents.size();
  }

  public int objects() {
    return objects;
  }

  /** Deltas whose base is not in the pack: their type (and, for a commit, id) is unknown. */
  public int unresolvedDeltas() {
    return unresolved;
  }

  /**
   * Reads the pack in {@code pack}'s readable bytes (empty: a pack of nothing), without consuming
   * them.
   *
   * @param idHexLength 40 (SHA-1) or 64 (SHA-256), as the push's object ids
   */
  public static PackCommits read(ByteBuf pack, int idHexLength) throws MalformedPackException {
    if (!pack.isReadable()) {
      return new PackCommits(Map.of(), 0, 0);
    }
    return new Reader(pack.duplicate(), idHexLength).read();
  }

  /** One pass over the entries; state that only lives while reading. */
  private static final class Reader {
    private final ByteBuf in;
    private final int start;
    private final int idBytes;
    private final String algorithm;
    private final Inflater inflater = new Inflater();
    private final byte[] scratch = new byte[64 * 1024];
    private final Map<Long, Integer> typeAt = new HashMap<>();
    private final Map<Long, byte[]> commitAt = new HashMap<>();
    private final Map<String, byte[]> commitById = new HashMap<>();
    private final Map<String, List<String>> parents = new HashMap<>();
    private final List<Pending> pending = new ArrayList<>();
    private long pendingBytes;
    private int lost;

    /** A delta whose base was not known when it was read. */
    private record Pending(long offset, long baseOffset, String baseId, byte[] delta) {}

    Reader(ByteBuf in, int idHexLength) throws MalformedPackException {
      this.in = in;
      this.start = in.readerIndex();
      this.idBytes = idHexLength / 2;
      this.algorithm =
          switch (idHexLength) {
            case 40 -> "SHA-1";
            case 64 -> "SHA-256";
            default -> throw new MalformedPackException("unknown object id length " + idHexLength);
          };
    }

    PackCommits read() throws MalformedPackException {
      try {
        need(12);
        if (in.readInt() != 0x5041434b) { // "PACK"
          throw new MalformedPackException("the push body does not hold a pack");
        }
        int version = in.readInt();
        if (version != 2 && version != 3) {
          throw new MalformedPackException("pack version " + version + " is not supported");
        }
        long count = in.readUnsignedInt();
        for (long i = 0; i < count; i++) {
          entry();
        }
        resolvePending();
        return new PackCommits(Map.copyOf(parents), (int) count, pending.size() + lost);
      } catch (DataFormatException e) {
        throw new MalformedPackException("a pack entry is not valid zlib data");
      } finally {
        inflater.end();
      }
    }

    private void entry() throws MalformedPackException, DataFormatException {
      long offset = in.readerIndex() - start;
      need(1);
      int c = in.readUnsignedByte();
      int type = (c >> 4) & 7;
      long size = c & 0x0f;
      int shift = 4;
      while ((c & 0x80) != 0) {
        if (shift > 57) {
          throw new MalformedPackException("a pack entry size is too large");
        }
        need(1);
        c = in.readUnsignedByte();
        size |= (long) (c & 0x7f) << shift;
        shift += 7;
      }
      switch (type) {
        case COMMIT -> {
          byte[] data = inflate(size, size <= MAX_COMMIT_BYTES);
          if (data == null) {
            lost++; // a commit too large to keep: its id stays unknown
            typeAt.put(offset, UNKNOWN);
          } else {
            typeAt.put(offset, COMMIT);
            commit(offset, data);
          }
        }
        case 2, 3, 4 -> {
          inflate(size, false);
          typeAt.put(offset, type);
        }
        case OFS_DELTA -> {
          long baseOffset = offset - ofsDistance();
          Integer baseType = typeAt.get(baseOffset);
          if (baseType == null) {
            throw new MalformedPackException("an offset delta points to no entry");
          }
          delta(offset, baseOffset, null, size, baseType);
        }
        case REF_DELTA -> {
          need(idBytes);
          byte[] id = new byte[idBytes];
          in.readBytes(id);
          String baseId = HexFormat.of().formatHex(id);
          delta(offset, -1, baseId, size, commitById.containsKey(baseId) ? COMMIT : UNKNOWN);
        }
        default -> throw new MalformedPackException("a pack entry has the unknown type " + type);
      }
    }

    private void delta(long offset, long baseOffset, String baseId, long size, Integer baseType)
        throws MalformedPackException, DataFormatException {
      if (baseType != null && baseType != COMMIT && baseType != UNKNOWN) {
        inflate(size, false); // a delta has its base's type: a tree, blob or tag
        typeAt.put(offset, baseType);
        return;
      }
      byte[] data =
          inflate(size, size <= MAX_COMMIT_BYTES && pendingBytes + size <= MAX_PENDING_BYTES);
      typeAt.put(offset, UNKNOWN);
      if (data == null) {
        lost++;
        return;
      }
      if (baseType != null && baseType == COMMIT) {
        byte[] base = baseId != null ? commitById.get(baseId) : commitAt.get(baseOffset);
        typeAt.put(offset, COMMIT);
        commit(offset, Delta.apply(base, data, MAX_COMMIT_BYTES));
        return;
      }
      pending.add(new Pending(offset, baseOffset, baseId, data));
      pendingBytes += size;
    }

    /** Deltas whose base came after them, or through another unresolved delta. */
    private void resolvePending() throws MalformedPackException {
      boolean progress = true;
      while (progress && !pending.isEmpty()) {
        progress = false;
        for (int i = 0; i < pending.size(); i++) {
          Pending p = pending.get(i);
          byte[] base =
              p.baseId() != null ? commitById.get(p.baseId()) : commitAt.get(p.baseOffset());
          Integer baseType = p.baseId() != null ? null : typeAt.get(p.baseOffset());
          if (base != null) {
            typeAt.put(p.offset(), COMMIT);
            commit(p.offset(), Delta.apply(base, p.delta(), MAX_COMMIT_BYTES));
          } else if (baseType != null && baseType != UNKNOWN) {
            typeAt.put(p.offset(), baseType);
          } else {
            continue;
          }
          pending.remove(i--);
          progress = true;
        }
      }
    }

    private void commit(long offset, byte[] data) throws MalformedPackException {
      String id = objectId(data);
      commitAt.put(offset, data);
      commitById.put(id, data);
      parents.put(id, parentsIn(data));
    }

    /** The {@code parent} lines of a commit's header (they follow {@code tree}). */
    private List<String> parentsIn(byte[] data) throws MalformedPackException {
      List<String> found = new ArrayList<>(2);
      int line = 0;
      while (line < data.length && data[line] != '\n') {
        int end = line;
        while (end < data.length && data[end] != '\n') {
          end++;
        }
        String text = new String(data, line, end - line, StandardCharsets.ISO_8859_1);
        if (text.startsWith("parent ")) {
          String id = text.substring(7);
          if (id.length() != idBytes * 2) {
            throw new MalformedPackException("a commit names a parent that is not an object id");
          }
          found.add(id);
        } else if (!text.startsWith("tree ")) {
          break; // author, committer, ...: the parents are all before
        }
        line = end + 1;
      }
      return List.copyOf(found);
    }

    private String objectId(byte[] data) {
      try {
        MessageDigest digest = MessageDigest.getInstance(algorithm);
        digest.update(("commit " + data.length + "\0").getBytes(StandardCharsets.US_ASCII));
        return HexFormat.of().formatHex(digest.digest(data));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    /** The distance back to an offset delta's base (git's "offset encoding"). */
    private long ofsDistance() throws MalformedPackException {
      need(1);
      int c = in.readUnsignedByte();
      long distance = c & 0x7f;
      while ((c & 0x80) != 0) {
        if (distance > (Long.MAX_VALUE >> 8)) {
          throw new MalformedPackException("an offset delta distance is too large");
        }
        need(1);
        c = in.readUnsignedByte();
        distance = ((distance + 1) << 7) | (c & 0x7f);
      }
      if (distance <= 0) {
        throw new MalformedPackException("an offset delta points to itself");
      }
      return distance;
    }

    /**
     * Inflates the zlib stream at the reader index (which then follows it).
     *
     * @param keep whether the bytes are wanted (else only the stream's end is)
     * @return the {@code size} bytes, or null when not kept
     */
    private byte[] inflate(long size, boolean keep)
        throws MalformedPackException, DataFormatException {
      inflater.reset();
      byte[] out = keep ? new byte[(int) size] : null;
      long total = 0;
      int from = in.readerIndex();
      int fed = 0;
      while (!inflater.finished()) {
        if (inflater.needsInput()) {
          int n = Math.min(in.writerIndex() - (from + fed), 64 * 1024);
          if (n <= 0) {
            throw new MalformedPackException("the pack ends inside an entry");
          }
          ByteBuffer piece = in.nioBuffer(from + fed, n);
          inflater.setInput(piece);
          fed += n;
        }
        int produced =
            out != null && total < size
                ? inflater.inflate(out, (int) total, (int) (size - total))
                : inflater.inflate(scratch);
        total += produced;
        if (total > size) {
          throw new MalformedPackException("a pack entry is larger than announced");
        }
        if (produced == 0 && inflater.needsDictionary()) {
          throw new MalformedPackException("a pack entry asks for a zlib dictionary");
        }
      }
      if (total != size) {
        throw new MalformedPackException("a pack entry is smaller than announced");
      }
      in.readerIndex(from + fed - inflater.getRemaining());
      return out;
    }

    private void need(int bytes) throws MalformedPackException {
      if (in.readableBytes() < bytes) {
        throw new MalformedPackException("the pack ends early");
      }
    }
  }
}
