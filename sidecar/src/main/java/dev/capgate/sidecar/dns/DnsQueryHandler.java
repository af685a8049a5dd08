package dev.capgate.sidecar.dns;

import dev.capgate.sidecar.audit.AuditEvent;
import dev.capgate.sidecar.audit.AuditRecorder;
import dev.capgate.sidecar.audit.DnsOutcome;
import dev.capgate.sidecar.audit.RequestIds;
import dev.capgate.sidecar.credentials.PlaceholderLeak;
import dev.capgate.sidecar.credentials.Placeholders;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.PolicySource;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsResponse;
import io.netty.handler.codec.dns.DnsOpCode;
import io.netty.handler.codec.dns.DnsQuery;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Optional;

/**
 * One DNS query, over UDP or TCP: refused unless it is one standard question; NXDOMAIN unless
 * policy allows the name; otherwise asked of the real resolver and answered as it answered. Shared
 * by all channels of the DNS proxy (stateless).
 */
@ChannelHandler.Sharable
final class DnsQueryHandler extends SimpleChannelInboundHandler<DnsQuery> {
  private final PolicySource policies;
  private final DnsNameResolver resolver;
  private final AuditRecorder audit;
  private final RequestIds ids;
  private final Placeholders placeholders;

  DnsQueryHandler(
      PolicySource policies, DnsNameResolver resolver, AuditRecorder audit, RequestIds ids) {
    this(policies, resolver, audit, ids, Placeholders.none());
  }

  DnsQueryHandler(
      PolicySource policies,
      DnsNameResolver resolver,
      AuditRecorder audit,
      RequestIds ids,
      Placeholders placeholders) {
    this.placeholders = placeholders;
    this.policies = policies;
    this.resolver = resolver;
    this.audit = audit;
    this.ids = ids;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, DnsQuery query) {
    DnsQuestion question =
        query.count(DnsSection.QUESTION) == 1 ? query.recordAt(DnsSection.QUESTION) : null;
    if (question == null || query.opCode() != DnsOpCode.QUERY) {
      record(policies.current(), null, null, DnsOutcome.REFUSED, null);
      ctx.writeAndFlush(answer(query, question, DnsResponseCode.REFUSED));
      return;
    }
    String name = normalize(question.name());
    Optional<Policy> policy = policies.current();
    PlaceholderLeak leak = placeholderIn(name);
    if (leak != null) {
      // Even under an allowed domain (*.example.com): a lookup is a message to that domain's
      // servers.
      audit.placeholderLeak(leak.credential());
      record(
          policy,
          placeholders.redact(name),
          question.type(),
          DnsOutcome.PLACEHOLDER,
          leak.auditReason(null));
      ctx.writeAndFlush(answer(query, question, DnsResponseCode.NXDOMAIN));
      return;
    }
    if (policy.isEmpty() || !policy.get().allowsDnsName(name)) {
      record(
          policy,
          name,
          question.type(),
          DnsOutcome.NXDOMAIN,
          policy.isEmpty() ? "no valid policy" : "name not allowed");
      ctx.writeAndFlush(answer(query, question, DnsResponseCode.NXDOMAIN));
      return;
    }
    query.retain();
    DnsQuestion forwarded =
        new DefaultDnsQuestion(question.name(), question.type(), question.dnsClass());
    resolver
        .query(forwarded)
        .addListener(
            (Future<AddressedEnvelope<DnsResponse, InetSocketAddress>> f) -> {
              try {
                if (!f.isSuccess()) {
                  record(policy, name, question.type(), DnsOutcome.ERROR, null);
                  ctx.writeAndFlush(answer(query, question, DnsResponseCode.SERVFAIL));
                  return;
                }
                AddressedEnvelope<DnsResponse, InetSocketAddress> envelope = f.getNow();
                try {
                  record(policy, name, question.type(), DnsOutcome.FORWARDED, null);
                  ctx.writeAndFlush(copyAnswer(query, question, envelope.content()));
                } finally {
                  envelope.release();
                }
              } finally {
                query.release();
              }
            });
  }

  /** A placeholder in the name, also when split across labels ("capgate-ph-gh.abc...."). */
  private PlaceholderLeak placeholderIn(String name) {
    if (placeholders.isEmpty()) {
      return null;
    }
    Placeholders.Match m = placeholders.find(name);
    if (m == null && name.indexOf('.') >= 0) {
      m = placeholders.find(name.replace(".", ""));
    }
    return m == null ? null : new PlaceholderLeak(m.credential(), "a DNS query name");
  }

  /** Counts the query, and writes its audit line when the outcome is audited. */
  private void record(
      Optional<Policy> policy, String name, DnsRecordType type, DnsOutcome outcome, String reason) {
    audit.record(
        AuditEvent.dns(
            outcome.audited() ? ids.next() : null, // an id only for a line that shows it
            policy.map(Policy::session).orElse(null),
            name,
            type == null ? null : type.name(),
            outcome,
            reason));
  }

  static String normalize(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }

  /** An empty answer of the query's transport: a datagram back to its sender, or a TCP message. */
  private static DnsResponse answer(DnsQuery query, DnsQuestion question, DnsResponseCode code) {
    DnsResponse response =
        query instanceof DatagramDnsQuery datagram
            ? new DatagramDnsResponse(
                datagram.recipient(), datagram.sender(), query.id(), query.opCode(), code)
            : new DefaultDnsResponse(query.id(), query.opCode(), code);
    response.setRecursionDesired(query.isRecursionDesired());
    response.setRecursionAvailable(true);
    if (question != null) {
      response.addRecord(
          DnsSection.QUESTION,
          new DefaultDnsQuestion(question.name(), question.type(), question.dnsClass()));
    }
    return response;
  }

  private static DnsResponse copyAnswer(DnsQuery query, DnsQuestion question, DnsResponse from) {
    DnsResponse response = answer(query, question, from.code());
    response.setAuthoritativeAnswer(from.isAuthoritativeAnswer());
    response.setTruncated(from.isTruncated());
    for (DnsSection section :
        new DnsSection[] {DnsSection.ANSWER, DnsSection.AUTHORITY, DnsSection.ADDITIONAL}) {
      for (int i = 0; i < from.count(section); i++) {
        DnsRecord record = from.recordAt(section, i);
        if (record.type() == DnsRecordType.OPT) {
          continue; // EDNS describes one hop
        }
        response.addRecord(section, ReferenceCountUtil.retain(record));
      }
    }
    return response;
  }
}
