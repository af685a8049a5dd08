/** The one JSON log schema of the operator and the sidecar ({@link JsonLogFormatter}). */
package dev.capgate.common.logging;
