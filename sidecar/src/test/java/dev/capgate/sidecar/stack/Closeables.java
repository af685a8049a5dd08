package dev.capgate.sidecar.stack;

import java.util.ArrayList;

/**
 * What one test opened (sidecar identities, accounts, runtimes), closed newest first when the test
 * ends: hold it in a JUnit {@code @AutoClose} instance field.
 */
public final class Closeables extends ArrayList<AutoCloseable> implements AutoCloseable {
  @Override
  public void close() throws Exception {
    for (AutoCloseable c : reversed()) {
      c.close();
    }
  }
}
