/** TLS that trusts only given PEM certificates: a server inside the cluster with a private CA. */
package dev.capgate.common.tls;
