package dev.capgate.sidecar.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.api.v1alpha1.GrpcMethods;
import java.util.List;
import org.junit.jupiter.api.Test;

class GrpcRulesTest {
  private final GrpcRules rules =
      new GrpcRules(
          "grpc-api",
          new GrpcMethods(
              List.of(
                  "grpc.testing.TestService/UnaryCall", "grpc.reflection.v1.ServerReflection/*")));

  @Test
  void an_exact_method_is_allowed_and_counted_under_its_entry() {
    GrpcRules.Judgement j = rules.judge("/grpc.testing.TestService/UnaryCall");
    assertThat(j.allowed()).isTrue();
    assertThat(j.method()).isEqualTo("grpc.testing.TestService/UnaryCall");
    assertThat(j.label()).isEqualTo("grpc.testing.TestService/UnaryCall");
    assertThat(j.reason()).isNull();
  }

  @Test
  void a_service_wildcard_allows_every_method_of_that_service_only() {
    GrpcRules.Judgement j =
        rules.judge("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo");
    assertThat(j.allowed()).isTrue();
    assertThat(j.label()).isEqualTo("grpc.reflection.v1.ServerReflection/*");
    assertThat(
            rules.judge("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo").allowed())
        .as("another package is another service")
        .isFalse();
    assertThat(rules.judge("/grpc.reflection.v1.ServerReflectionX/Info").allowed()).isFalse();
  }

  @Test
  void another_method_is_denied_naming_method_and_rule() {
    GrpcRules.Judgement j = rules.judge("/grpc.testing.TestService/EmptyCall");
    assertThat(j.allowed()).isFalse();
    assertThat(j.label()).isEqualTo(GrpcRules.OTHER_METHOD);
    assertThat(j.reason())
        .isEqualTo(
            "grpc-method-denied: method 'grpc.testing.TestService/EmptyCall' is not allowed by rule"
                + " 'grpc-api'");
    // Letter case matters in gRPC names.
    assertThat(rules.judge("/grpc.testing.TestService/unarycall").allowed()).isFalse();
  }

  @Test
  void paths_that_are_not_a_method_are_denied() {
    for (String path :
        List.of(
            "/",
            "/grpc.testing.TestService",
            "/grpc.testing.TestService/UnaryCall/extra",
            "/grpc.testing.TestService/",
            "//UnaryCall",
            "/grpc..testing.TestService/UnaryCall",
            "/grpc.testing.TestService/Unary-Call",
            "/1grpc.TestService/UnaryCall")) {
      GrpcRules.Judgement j = rules.judge(path);
      assertThat(j.allowed()).as(path).isFalse();
      assertThat(j.reason()).as(path).contains("is not a gRPC method");
    }
  }

  @Test
  void method_paths_parse_into_service_and_method() {
    assertThat(GrpcRules.GrpcMethod.parse("/pkg.sub.Svc/Do_It2"))
        .isEqualTo(new GrpcRules.GrpcMethod("pkg.sub.Svc", "Do_It2"));
    assertThat(GrpcRules.GrpcMethod.parse("/Svc/M"))
        .isEqualTo(new GrpcRules.GrpcMethod("Svc", "M"));
    assertThat(GrpcRules.GrpcMethod.parse("Svc/M")).isNull();
  }

  @Test
  void an_entry_that_is_no_method_fails_the_compile() {
    assertThatThrownBy(() -> new GrpcRules("r", new GrpcMethods(List.of("not a method"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rule 'r'");
  }
}
