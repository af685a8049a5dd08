package dev.capgate.sidecar.policy;

import java.util.Locale;

/**
 * The S3 operation a request performs: bucket, key and the action's name (as IAM names most of
 * them), derived from method, host, path and query. Virtual-hosted style when a host label after
 * the first is {@code s3} or starts with {@code s3-} ({@code <bucket>.s3.<region>.amazonaws.com},
 * bucket names may hold dots), path-style otherwise ({@code /<bucket>/<key>}, custom endpoints).
 *
 * @param bucket null for a request naming none (ListBuckets)
 * @param key the object key (decoded), null for bucket operations
 * @param listPrefix the {@code prefix} parameter of a ListBucket, else null
 */
public record S3Request(String action, String bucket, String key, String listPrefix) {

  static S3Request of(NormalizedRequest request) {
    String bucket = null;
    String rest = request.path();
    String host = request.host();
    int s3Label = s3LabelStart(host);
    if (s3Label > 0) {
      bucket = host.substring(0, s3Label - 1);
    } else {
      String p = rest.startsWith("/") ? rest.substring(1) : rest;
      int slash = p.indexOf('/');
      bucket = slash < 0 ? p : p.substring(0, slash);
      rest = slash < 0 ? "" : p.substring(slash);
      if (bucket.isEmpty()) {
        bucket = null;
      }
    }
    String key = rest.isEmpty() || rest.equals("/") ? null : rest.substring(1);
    String query = request.query() == null ? "" : request.query();
    String method = request.method();
    if (bucket == null) {
      return new S3Request(method.equals("GET") ? "ListBuckets" : "Unknown", null, null, null);
    }
    if (key == null) {
      return new S3Request(bucketAction(method, query), bucket, null, parameter(query, "prefix"));
    }
    return new S3Request(objectAction(method, query), bucket, key, null);
  }

  private static String bucketAction(String method, String query) {
    return switch (method) {
      case "GET" -> {
        if (has(query, "uploads")) yield "ListBucketMultipartUploads";
        if (has(query, "versions")) yield "ListBucketVersions";
        if (has(query, "location")) yield "GetBucketLocation";
        if (has(query, "policy")) yield "GetBucketPolicy";
        if (has(query, "acl")) yield "GetBucketAcl";
        if (has(query, "versioning")) yield "GetBucketVersioning";
        if (has(query, "tagging")) yield "GetBucketTagging";
        yield subresource(query) ? "GetBucketOther" : "ListBucket";
      }
      case "HEAD" -> "HeadBucket";
      case "PUT" -> {
        if (has(query, "policy")) yield "PutBucketPolicy";
        if (has(query, "acl")) yield "PutBucketAcl";
        if (has(query, "tagging")) yield "PutBucketTagging";
        yield subresource(query) ? "PutBucketOther" : "CreateBucket";
      }
      case "DELETE" -> subresource(query) ? "DeleteBucketOther" : "DeleteBucket";
      case "POST" -> has(query, "delete") ? "DeleteObjects" : "Unknown";
      default -> "Unknown";
    };
  }

  private static String objectAction(String method, String query) {
    return switch (method) {
      case "GET" -> {
        if (has(query, "uploadId")) yield "ListParts";
        if (has(query, "acl")) yield "GetObjectAcl";
        if (has(query, "tagging")) yield "GetObjectTagging";
        yield "GetObject";
      }
      case "HEAD" -> "HeadObject";
      case "PUT" -> {
        if (has(query, "uploadId") && has(query, "partNumber")) yield "UploadPart";
        if (has(query, "acl")) yield "PutObjectAcl";
        if (has(query, "tagging")) yield "PutObjectTagging";
        yield "PutObject";
      }
      case "DELETE" -> {
        if (has(query, "uploadId")) yield "AbortMultipartUpload";
        if (has(query, "tagging")) yield "DeleteObjectTagging";
        yield "DeleteObject";
      }
      case "POST" -> {
        if (has(query, "uploads")) yield "CreateMultipartUpload";
        if (has(query, "uploadId")) yield "CompleteMultipartUpload";
        if (has(query, "restore")) yield "RestoreObject";
        if (has(query, "select")) yield "SelectObjectContent";
        yield "Unknown";
      }
      default -> "Unknown";
    };
  }

  /** Where the bucket ends in a virtual-hosted host: index of its s3 label, or -1. */
  static int s3LabelStart(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    int start = 0;
    while (start < h.length()) {
      int dot = h.indexOf('.', start);
      String label = dot < 0 ? h.substring(start) : h.substring(start, dot);
      if (start > 0 && (label.equals("s3") || label.startsWith("s3-"))) {
        return start;
      }
      if (dot < 0) {
        return -1;
      }
      start = dot + 1;
    }
    return -1;
  }

  /** A parameter other than the listing ones: a subresource the rule's actions must name. */
  private static boolean subresource(String query) {
    if (query.isEmpty()) {
      return false;
    }
    for (String p : query.split("&")) {
      String name = p.contains("=") ? p.substring(0, p.indexOf('=')) : p;
      switch (name) {
        case "list-type",
            "prefix",
            "delimiter",
            "max-keys",
            "marker",
            "continuation-token",
            "start-after",
            "encoding-type",
            "fetch-owner",
            "x-id",
            "" -> {}
        default -> {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean has(String query, String name) {
    for (String p : query.split("&")) {
      if (p.equals(name) || p.startsWith(name + "=")) {
        return true;
      }
    }
    return false;
  }

  /** The decoded value of parameter {@code name}, or null. */
  private static String parameter(String query, String name) {
    for (String p : query.split("&")) {
      if (p.startsWith(name + "=")) {
        return java.net.URLDecoder.decode(
            p.substring(name.length() + 1).replace("+", "%2B"),
            java.nio.charset.StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
