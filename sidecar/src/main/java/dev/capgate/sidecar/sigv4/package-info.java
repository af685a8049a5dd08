/**
 * AWS Signature Version 4 (issue 15): parse the agent's {@code Authorization}, verify it against
 * the pod's placeholder secret key, and sign the request again with the real keys. Pure functions
 * over a request view ({@link SignedRequest}); depends on no other sidecar package, so the {@code
 * http} package drives it and the tests run AWS's published vectors against it directly.
 */
package dev.capgate.sidecar.sigv4;
