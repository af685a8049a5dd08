package dev.capgate.sidecar.policy;

import java.net.InetAddress;

/** A CIDR of a cidrs rule, IPv4 or IPv6. Addresses of the other family never match. */
final class AddressRange {
  private final String cidr;
  private final byte[] network;
  private final int prefix;

  private AddressRange(String cidr, byte[] network, int prefix) {
    this.cidr = cidr;
    this.network = network;
    this.prefix = prefix;
  }

  /**
   * @param cidr already checked by the validator, e.g. {@code 10.0.0.0/8} or {@code fd00::/8}
   */
  static AddressRange parse(String cidr) {
    int slash = cidr.indexOf('/');
    byte[] address = InetAddress.ofLiteral(cidr.substring(0, slash)).getAddress();
    return new AddressRange(cidr, address, Integer.parseInt(cidr.substring(slash + 1)));
  }

  boolean contains(InetAddress address) {
    byte[] candidate = address.getAddress();
    if (candidate.length != network.length) {
      return false;
    }
    int whole = prefix / 8;
    for (int i = 0; i < whole; i++) {
      if (candidate[i] != network[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xFF << (8 - rest)) & 0xFF;
    return (candidate[whole] & mask) == (network[whole] & mask);
  }

  @Override
  public String toString() {
    return cidr;
  }
}
