package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.type != 'header' || has(self.header)",
    fieldPath = ".header",
    reason = "FieldValueRequired",
    message = "header is required when type is header")
@ValidationRule(
    value = "!has(self.template) || self.template.contains('{{value}}')",
    fieldPath = ".template",
    reason = "FieldValueInvalid",
    message = "template must contain {{value}}")
@ValidationRule(
    value = "self.type == 'header' || !has(self.template)",
    fieldPath = ".template",
    reason = "FieldValueForbidden",
    message = "template applies to type header only")
public record Injection(
    @Required
        @JsonPropertyDescription(
            "bearer: Authorization: Bearer <value>; basic: Authorization: Basic base64(<username>:<value>), or base64(<value>) without username; header: <header>: <template with {{value}}>.")
        InjectionType type,
    @Size(min = 1, max = 128)
        @Pattern(Patterns.HEADER)
        @JsonPropertyDescription("Header name, for type header (e.g. X-Api-Key or PRIVATE-TOKEN).")
        String header,
    @Size(min = 1, max = 256)
        @JsonPropertyDescription(
            "Header value template for type header, containing {{value}} (default {{value}}).")
        String template,
    @Size(min = 1, max = 256)
        @JsonPropertyDescription("User name for type basic (e.g. x-access-token for Git hosts).")
        String username) {}
