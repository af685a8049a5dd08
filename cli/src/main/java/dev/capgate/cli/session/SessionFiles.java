package dev.capgate.cli.session;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Violation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the AgentSessions of a file as {@code kubectl apply -f} would take it: YAML (several
 * documents separated by {@code ---}) or JSON (YAML's superset), a {@code List} of items too.
 * Documents of other kinds are skipped (a file may hold the agent's pod template beside its
 * session).
 *
 * <p>Unknown fields in the spec are violations, not silently dropped: the API server prunes them
 * (or refuses them with {@code kubectl apply --validate=strict}), so a typo such as {@code hots}
 * would make a session other than the one written. Every unknown field is reported, not only the
 * first, and the rest of the spec is still read and validated.
 */
public final class SessionFiles {
  static final String API_VERSION = AgentSession.GROUP + "/" + AgentSession.VERSION;
  static final String KIND = "AgentSession";

  private static final YAMLMapper YAML = new YAMLMapper();
  private static final ObjectMapper STRICT =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private static final int MAX_UNKNOWN_FIELDS = 100;

  private SessionFiles() {}

  /**
   * @throws IOException when the file cannot be read or is not YAML/JSON at all
   */
  public static List<SessionDocument> read(Path file) throws IOException {
    List<JsonNode> documents = new ArrayList<>();
    try (MappingIterator<JsonNode> it =
        YAML.readerFor(JsonNode.class).readValues(Files.readString(file))) {
      while (it.hasNextValue()) {
        JsonNode doc = it.nextValue();
        if (doc == null || doc.isNull() || doc.isMissingNode()) {
          continue;
        }
        if ("List".equals(doc.path("kind").asText()) && doc.path("items").isArray()) {
          doc.path("items").forEach(documents::add);
        } else {
          documents.add(doc);
        }
      }
    } catch (JsonMappingException e) {
      throw new IOException(file + " is not valid YAML or JSON: " + e.getOriginalMessage(), e);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException(file + " is not valid YAML or JSON: " + e.getOriginalMessage(), e);
    }
    List<SessionDocument> sessions = new ArrayList<>();
    for (int i = 0; i < documents.size(); i++) {
      JsonNode doc = documents.get(i);
      if (KIND.equals(doc.path("kind").asText()) || isBareSpec(doc)) {
        sessions.add(document(i + 1, doc));
      }
    }
    return sessions;
  }

  /** A file holding only a spec (as the sidecar's session file may): user, agent and egress. */
  private static boolean isBareSpec(JsonNode doc) {
    return doc.isObject() && !doc.has("kind") && doc.has("egress");
  }

  /** One AgentSession as JSON (e.g. read from the API server), or a bare spec. */
  public static SessionDocument document(int index, JsonNode doc) {
    List<Violation> shape = new ArrayList<>();
    boolean bare = !doc.has("kind");
    JsonNode metadata = doc.path("metadata");
    String name = metadata.path("name").isTextual() ? metadata.path("name").textValue() : null;
    String namespace =
        metadata.path("namespace").isTextual() ? metadata.path("namespace").textValue() : null;
    if (!bare) {
      String apiVersion = doc.path("apiVersion").asText("");
      if (!API_VERSION.equals(apiVersion)) {
        shape.add(
            new Violation("apiVersion", "must be " + API_VERSION + ", not '" + apiVersion + "'"));
      }
      if (name == null || name.isBlank()) {
        shape.add(new Violation("metadata.name", "is required"));
      }
    }
    JsonNode specNode = bare ? doc : doc.get("spec");
    if (specNode == null || !specNode.isObject()) {
      shape.add(new Violation("spec", "is required"));
      return new SessionDocument(index, namespace, name, null, shape);
    }
    String prefix = "spec";
    ObjectNode remaining = specNode.deepCopy();
    AgentSessionSpec spec = null;
    // One unknown field per attempt, with its exact path from Jackson; it is removed and the spec
    // read again, so that every unknown field is reported and the rest is still validated.
    for (int attempt = 0; attempt <= MAX_UNKNOWN_FIELDS; attempt++) {
      try {
        spec = STRICT.treeToValue(remaining, AgentSessionSpec.class);
        break;
      } catch (UnrecognizedPropertyException e) {
        shape.add(new Violation(prefix + FieldPaths.of(e.getPath()), "unknown field (a typo?)"));
        if (!remove(remaining, e.getPath())) {
          break;
        }
      } catch (JsonMappingException e) {
        shape.add(new Violation(prefix + FieldPaths.of(e.getPath()), e.getOriginalMessage()));
        break;
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        shape.add(new Violation(prefix, e.getOriginalMessage()));
        break;
      }
    }
    return new SessionDocument(index, namespace, name, spec, shape);
  }

  /** Removes the field a path ends at; false when the path does not lead to one. */
  private static boolean remove(JsonNode root, List<JsonMappingException.Reference> path) {
    JsonNode node = root;
    for (int i = 0; i < path.size() - 1; i++) {
      JsonMappingException.Reference r = path.get(i);
      node = r.getFieldName() != null ? node.path(r.getFieldName()) : node.path(r.getIndex());
    }
    String last = path.isEmpty() ? null : path.get(path.size() - 1).getFieldName();
    if (last == null || !(node instanceof ObjectNode object) || !object.has(last)) {
      return false;
    }
    object.remove(last);
    return true;
  }
}
