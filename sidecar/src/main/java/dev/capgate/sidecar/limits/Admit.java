package dev.capgate.sidecar.limits;

/** What the limits say about one request an egress rule allowed. */
public sealed interface Admit permits Ticket, LimitRefusal {}
