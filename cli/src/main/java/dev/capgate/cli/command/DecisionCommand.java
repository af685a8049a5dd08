package dev.capgate.cli.command;

import dev.capgate.api.v1alpha1.ApprovalDecision;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * What {@code approve} and {@code reject} share: the held request named by session and request id,
 * an optional message, and the decision each verb stands for. picocli reads the arguments declared
 * here for both subclasses.
 */
abstract class DecisionCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(index = "0", paramLabel = "SESSION", description = "The AgentSession.")
  String session;

  @Parameters(
      index = "1",
      paramLabel = "REQUEST-ID",
      description = "The held request's id (kubectl capgate approvals SESSION lists them).")
  String requestId;

  @Option(names = "--message", description = "Why, recorded on the approval.")
  String message;

  /** The decision this verb records. */
  abstract ApprovalDecision decision();

  @Override
  public Integer call() {
    return Decision.decide(spec, kube, session, requestId, decision(), message);
  }
}
