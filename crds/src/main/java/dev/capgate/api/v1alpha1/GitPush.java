package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/**
 * What a git push (smart HTTP {@code git-receive-pack}) through an egress rule may change, decided
 * per ref update command before the pack is forwarded. A push that breaks any of it is refused
 * whole, so the refs it names either all move or none does.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GitPush(
    @Required
        @Size(min = 1, max = 32)
        @JsonPropertyDescription(
            "Refs a push may change, e.g. refs/heads/agent/**. * matches one path segment, ** any number. Tags are refs like any other: refs/tags/* are refused unless named here.")
        List<@Pattern(Patterns.GIT_REF) @Size(max = 255) String> refs,
    @JsonPropertyDescription(
            "Whether a push may create a ref that does not exist yet. Default true.")
        Boolean create,
    @JsonPropertyDescription(
            "Whether a push may move an existing ref. Default true. The sidecar sees object ids, not history: it cannot tell a fast-forward from a force-push, so false is the way to forbid rewriting a ref here (or protect the branch on the server).")
        Boolean update,
    @JsonPropertyDescription("Whether a push may delete a ref. Default false.") Boolean delete) {

  public boolean createOrDefault() {
    return create == null || create;
  }

  public boolean updateOrDefault() {
    return update == null || update;
  }

  public boolean deleteOrDefault() {
    return delete != null && delete;
  }
}
