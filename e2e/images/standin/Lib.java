// Lives in target/lib/standin-lib.jar: proves the manifest Class-Path (lib/...) works in the image.
package dev.capgate.standin;

public final class Lib {
    public static final String NAME = "standin-lib";
}
