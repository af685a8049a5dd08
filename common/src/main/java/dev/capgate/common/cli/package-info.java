/**
 * The deployables' command lines: flags that each stand for a {@code CAPGATE_*} variable ({@link
 * dev.capgate.common.cli.Flag}), parsed with picocli from a model built in code ({@link
 * dev.capgate.common.cli.FlagCommandLine}). {@code Flag} loads no picocli class, so a start without
 * arguments (a pod's) never loads the parser.
 */
package dev.capgate.common.cli;
