package dev.capgate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The image build's AOT training run ({@code capgate-operator aot-train}): it must succeed where an
 * image is built (loopback only, no API server), since a failing run ships an image without its
 * cache. Every step checks its answer, so a regression in any trained path fails this test.
 */
class AotTrainingTest {
  @Test
  void trainingAnswersEveryAdmissionAsTheOperatorDoesAndExitsZero() {
    assertThat(AotTraining.run()).as("aot-train exit code").isZero();
  }
}
