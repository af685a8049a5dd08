package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/**
 * The gRPC methods an egress rule allows. The sidecar judges each gRPC call (an HTTP/2 POST to
 * {@code /package.Service/Method} with {@code content-type: application/grpc...}) on its method
 * before anything goes upstream; a call to another method is answered by the sidecar with gRPC
 * status PERMISSION_DENIED, which gRPC clients print.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GrpcMethods(
    @Required
        @Size(min = 1, max = 64)
        @JsonPropertyDescription(
            "Methods a gRPC call through this rule may invoke: package.Service/Method, or package.Service/* for every method of that service. Calls to any other method get gRPC status 7 PERMISSION_DENIED from the sidecar.")
        List<@Pattern(Patterns.GRPC_METHOD) @Size(max = 256) String> methods) {}
