package dev.capgate.sidecar.policy;

import java.util.List;

/**
 * A request as it arrived, transport-neutral (HTTP/1.1 and HTTP/2). Lists hold one entry per header
 * line, unmodified; null lists count as empty.
 *
 * @param authority the HTTP/2 {@code :authority} pseudo-header, else null
 */
public record RawRequest(
    String method,
    String target,
    String authority,
    List<String> hostHeaders,
    List<String> contentLength,
    List<String> transferEncoding,
    boolean http2) {}
