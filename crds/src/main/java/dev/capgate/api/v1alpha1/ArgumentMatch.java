package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/**
 * A condition on one argument of an MCP tool call: the value at a JSON pointer into {@code
 * params.arguments} must be a string, number or boolean whose text matches. A missing argument, or
 * an object, array or null there, fails the condition.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "(has(self.equals) ? 1 : 0) + (has(self.oneOf) ? 1 : 0) + (has(self.glob) ? 1 : 0) + (has(self.regex) ? 1 : 0) == 1",
    reason = "FieldValueInvalid",
    message = "an argument condition has exactly one of equals, oneOf, glob or regex")
public record ArgumentMatch(
    @Required
        @Size(min = 2, max = 256)
        @Pattern(Patterns.JSON_POINTER)
        @JsonPropertyDescription(
            "JSON pointer (RFC 6901) into params.arguments, e.g. /repo or /options/branch.")
        String pointer,
    @JsonProperty("equals")
        @Size(max = 1024)
        @JsonPropertyDescription("The argument's text must be exactly this.")
        String equalTo,
    @Size(min = 1, max = 64) @JsonPropertyDescription("The argument's text must be one of these.")
        List<@Size(max = 1024) String> oneOf,
    @Size(min = 1, max = 1024)
        @JsonPropertyDescription(
            "The argument's text must match this glob: * any run of characters, ? one character, everything else literal.")
        String glob,
    @Size(min = 1, max = 1024)
        @JsonPropertyDescription(
            "The argument's text must match this regular expression whole (Java syntax, anchored).")
        String regex) {}
