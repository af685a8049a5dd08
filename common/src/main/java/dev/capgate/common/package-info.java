/**
 * What the sidecar, the operator and the test kit share and nothing else: no Kubernetes, no Netty.
 */
package dev.capgate.common;
