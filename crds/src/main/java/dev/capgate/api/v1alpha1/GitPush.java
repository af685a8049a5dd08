package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/**
 * What a git push (smart HTTP {@code git-receive-pack}) through an egress rule may change, decided
 * per ref update command before the pack is forwarded (and, unless {@code forcePush}, by the
 * commits in the pack: an update must be a provable fast-forward). A push that breaks any of it is
 * refused whole, so the refs it names either all move or none does.
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
            "Whether a push may move an existing ref. Default true. A move that is not a proven fast-forward also needs forcePush.")
        Boolean update,
    @JsonPropertyDescription("Whether a push may delete a ref. Default false.") Boolean delete,
    @JsonPropertyDescription(
            "Whether a push may move a ref to a commit that does not descend from its current one (git push --force). Default false: the sidecar reads the pushed pack and lets an update through only when the new commit's parents, inside the pack, reach the ref's current commit; an update it cannot prove (a rewritten branch, a ref moved to a commit the server already has, a pack over maxPackBytes) is refused.")
        Boolean forcePush,
    @Min(1)
        @Max(1073741824)
        @JsonPropertyDescription(
            "Largest pack (bytes) the sidecar reads to prove fast-forwards, held in memory until the push is judged. Default 67108864 (64 MiB); a bigger push that needs the proof is refused. Not used when forcePush is true.")
        Integer maxPackBytes) {

  /** The default of {@link #maxPackBytes}: 64 MiB. */
  public static final int DEFAULT_MAX_PACK_BYTES = 64 * 1024 * 1024;

  /** Without the fast-forward settings (defaults: force-push refused, 64 MiB packs). */
  public GitPush(List<String> refs, Boolean create, Boolean update, Boolean delete) {
    this(refs, create, update, delete, null, null);
  }

  public boolean createOrDefault() {
    return create == null || create;
  }

  public boolean updateOrDefault() {
    return update == null || update;
  }

  public boolean deleteOrDefault() {
    return delete != null && delete;
  }

  public boolean forcePushOrDefault() {
    return forcePush != null && forcePush;
  }

  public int maxPackBytesOrDefault() {
    return maxPackBytes == null ? DEFAULT_MAX_PACK_BYTES : maxPackBytes;
  }
}
