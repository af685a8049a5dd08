package dev.capgate.sidecar.init;

/** The two address families, each with its own iptables front end. */
public enum IpFamily {
  IPV4("iptables-restore", "iptables-save"),
  IPV6("ip6tables-restore", "ip6tables-save");

  private final String restoreCommand;
  private final String saveCommand;

  IpFamily(String restoreCommand, String saveCommand) {
    this.restoreCommand = restoreCommand;
    this.saveCommand = saveCommand;
  }

  public String restoreCommand() {
    return restoreCommand;
  }

  public String saveCommand() {
    return saveCommand;
  }
}
