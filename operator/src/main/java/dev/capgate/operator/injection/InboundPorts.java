package dev.capgate.operator.injection;

import dev.capgate.api.sidecar.InboundPortList;
import dev.capgate.api.sidecar.SidecarPorts;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LifecycleHandler;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.TCPSocketAction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The TCP ports peers may connect to in an injected pod ({@code capgate-init --inbound-ports});
 * every other inbound connection is dropped, because replies to inbound traffic never pass the
 * sidecar. Two sources, both fixed at admission: the annotation {@code capgate.dev/inbound-ports:
 * "8080,9090"} (ports the agent serves on purpose) and the ports of the agent containers' own
 * probes and lifecycle hooks (httpGet, tcpSocket, grpc), which the kubelet calls from the node:
 * without them every probed agent would never become ready.
 */
public final class InboundPorts {
  public static final String ANNOTATION = "capgate.dev/inbound-ports";

  /** Never opened to peers: they act for the pod's agents (the admin port is always open). */
  static java.util.Set<Integer> sidecarPorts(SidecarPorts ports) {
    return java.util.Set.of(ports.proxyPort(), ports.dnsPort());
  }

  private InboundPorts() {}

  /**
   * What is wrong with the annotation, in words a pod author can act on; empty when fine.
   *
   * @param sidecar the uid and ports the webhook injects (the operator's)
   */
  public static List<String> violations(Pod pod, SidecarPorts sidecar) {
    String value = annotation(pod);
    if (value == null) {
      return List.of();
    }
    List<String> bad = new ArrayList<>();
    SortedSet<Integer> ports = parse(value, bad);
    List<String> violations = new ArrayList<>();
    ports.stream()
        .filter(sidecarPorts(sidecar)::contains)
        .forEach(
            p ->
                violations.add(
                    "annotation "
                        + ANNOTATION
                        + " may not open port "
                        + p
                        + ": it is the sidecar's own ("
                        + sidecar.proxyPort()
                        + " transparent listener, "
                        + sidecar.dnsPort()
                        + " DNS)"));
    if (bad.isEmpty()) {
      return violations;
    }
    violations.add(
        "annotation "
            + ANNOTATION
            + " must be comma-separated TCP port numbers 1-65535 (e.g. \"8080,9090\"),"
            + " got "
            + String.join(", ", bad)
            + " in \""
            + value
            + "\"");
    return violations;
  }

  /**
   * The ports to open: the annotation's valid entries and the agent containers' probe ports, never
   * the sidecar's proxy and DNS ports.
   */
  public static SortedSet<Integer> of(Pod pod, SidecarPorts sidecar) {
    SortedSet<Integer> ports = new TreeSet<>();
    String value = annotation(pod);
    if (value != null) {
      ports.addAll(parse(value, new ArrayList<>()));
    }
    if (pod.getSpec() != null) {
      for (Container c : PodInjector.agentContainers(pod.getSpec())) {
        for (Probe probe :
            java.util.Arrays.asList(
                c.getLivenessProbe(), c.getReadinessProbe(), c.getStartupProbe())) {
          if (probe != null) {
            add(ports, c, probe.getHttpGet(), probe.getTcpSocket());
            if (probe.getGrpc() != null && probe.getGrpc().getPort() != null) {
              addPort(ports, probe.getGrpc().getPort());
            }
          }
        }
        if (c.getLifecycle() != null) {
          for (LifecycleHandler hook :
              java.util.Arrays.asList(
                  c.getLifecycle().getPostStart(), c.getLifecycle().getPreStop())) {
            if (hook != null) {
              add(ports, c, hook.getHttpGet(), hook.getTcpSocket());
            }
          }
        }
      }
    }
    // A probe on a sidecar port would be odd; it must not open that port to peers either.
    ports.removeAll(sidecarPorts(sidecar));
    return ports;
  }

  /** {@code "8080,9090"}: the flag's value. */
  public static String flagValue(SortedSet<Integer> ports) {
    return InboundPortList.format(ports);
  }

  private static SortedSet<Integer> parse(String value, List<String> bad) {
    return InboundPortList.parse(value, bad);
  }

  private static void add(
      SortedSet<Integer> ports, Container c, HTTPGetAction http, TCPSocketAction tcp) {
    if (http != null) {
      resolve(c, http.getPort(), ports);
    }
    if (tcp != null) {
      resolve(c, tcp.getPort(), ports);
    }
  }

  /** A number, or the name of one of the container's ports (as the kubelet resolves it). */
  private static void resolve(Container c, IntOrString port, SortedSet<Integer> ports) {
    if (port == null) {
      return;
    }
    if (port.getIntVal() != null) {
      addPort(ports, port.getIntVal());
      return;
    }
    String name = port.getStrVal();
    if (name == null) {
      return;
    }
    if (name.matches("[0-9]{1,5}")) {
      addPort(ports, Integer.parseInt(name));
      return;
    }
    Map<String, Integer> named =
        c.getPorts() == null
            ? Map.of()
            : c.getPorts().stream()
                .filter(p -> p.getName() != null && p.getContainerPort() != null)
                .collect(
                    Collectors.toMap(
                        ContainerPort::getName, ContainerPort::getContainerPort, (a, b) -> a));
    Integer number = named.get(name);
    if (number != null) {
      addPort(ports, number);
    }
  }

  private static void addPort(SortedSet<Integer> ports, int port) {
    if (port >= 1 && port <= 65535) {
      ports.add(port);
    }
  }

  private static String annotation(Pod pod) {
    if (pod.getMetadata() == null || pod.getMetadata().getAnnotations() == null) {
      return null;
    }
    return pod.getMetadata().getAnnotations().get(ANNOTATION);
  }
}
