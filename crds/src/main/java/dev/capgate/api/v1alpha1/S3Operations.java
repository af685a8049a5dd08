package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import java.util.List;
import java.util.Set;

/**
 * S3 operations a rule allows, judged on the operation the request performs (derived from method,
 * path, query and host, path-style and virtual-hosted style), not only on its HTTP path.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record S3Operations(
    @Size(min = 1, max = 32)
        @JsonPropertyDescription(
            "S3 actions allowed, e.g. GetObject, PutObject, ListBucket, DeleteObject, HeadObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload. Absent means any.")
        List<@Pattern("^[A-Z][A-Za-z]+$") @Size(max = 64) String> actions,
    @Size(min = 1, max = 32)
        @JsonPropertyDescription(
            "Buckets allowed (exact names). Absent means any; a request naming no bucket (ListBuckets) is allowed only without buckets.")
        List<@Pattern("^[a-z0-9][a-z0-9.-]*[a-z0-9]$") @Size(max = 63) String> buckets,
    @Size(min = 1, max = 32)
        @JsonPropertyDescription(
            "Object key prefixes allowed, e.g. reports/ (empty string for any key). Applies to object operations and to the prefix of ListBucket. Absent means any.")
        List<@Size(max = 1024) String> keyPrefixes) {

  /** Every action a rule may name: what the sidecar derives from a request. */
  public static final Set<String> ACTIONS =
      Set.of(
          "ListBuckets",
          "ListBucket",
          "ListBucketMultipartUploads",
          "ListBucketVersions",
          "HeadBucket",
          "CreateBucket",
          "DeleteBucket",
          "GetBucketLocation",
          "GetBucketPolicy",
          "PutBucketPolicy",
          "GetBucketAcl",
          "PutBucketAcl",
          "GetBucketVersioning",
          "GetBucketTagging",
          "PutBucketTagging",
          "GetBucketOther",
          "PutBucketOther",
          "DeleteBucketOther",
          "DeleteObjects",
          "GetObject",
          "HeadObject",
          "PutObject",
          "DeleteObject",
          "GetObjectAcl",
          "PutObjectAcl",
          "GetObjectTagging",
          "PutObjectTagging",
          "DeleteObjectTagging",
          "CreateMultipartUpload",
          "UploadPart",
          "CompleteMultipartUpload",
          "AbortMultipartUpload",
          "ListParts",
          "RestoreObject",
          "SelectObjectContent");
}
