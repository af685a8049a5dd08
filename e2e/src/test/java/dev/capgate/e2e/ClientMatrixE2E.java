package dev.capgate.e2e;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.testkit.ProcessResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client matrix: ordinary clients in an agent pod, configured by nothing but the trust
 * variables the webhook sets, against the real upstreams (which check the injected credential). For
 * each client: an allowed call (credential injected by the sidecar, checked upstream), a denied
 * call (the client's own error message printed), and the HTTP version the client itself reports for
 * HTTP/1.1 and, where it speaks it, HTTP/2 negotiated by ALPN. Prints the matrix as a table (the
 * README's "Clients that just work" carries it) and fails if any cell that should work doesn't.
 */
class ClientMatrixE2E {
  static AgentSessionBuilder session(String name) {
    return Sessions.alice(name)
        .credential(
            Sessions.github(),
            Sessions.githubGit(),
            kv2("packages", "secret/data/github/{{user}}", "token").bearer())
        .egress(
            Sessions.githubApi("github-api", "github").methods(GET).paths("/repos/acme/repo-a"),
            Sessions.gitFetch("git-fetch", "github-git"),
            rule("pypi")
                .hosts("pypi.test")
                .methods(GET)
                .paths("/simple/capgate-hello/", "/packages/**")
                .credential("packages"),
            rule("pypi-passthrough").hosts("pypi-direct.test").passthrough(),
            rule("npm")
                .hosts("registry.npm.test")
                .methods(GET)
                .paths("/capgate-hello", "/capgate-hello/-/**")
                .credential("packages"));
  }

  static final String ALLOWED = "https://api.github.test/repos/acme/repo-a";
  static final String DENIED = "https://api.github.test/repos/acme/repo-b";
  static final List<String> COLUMNS = List.of("allowed", "denied", "HTTP/1.1", "HTTP/2");

  /** One cell: expected to work (or n/a), whether it did, and what the client said. */
  record Cell(boolean applicable, boolean ok, String note) {
    static Cell na(String note) {
      return new Cell(false, true, note);
    }

    String mark() {
      return applicable ? (ok ? "✓" : "✗") : "–";
    }
  }

  @AutoClose // the secret sweep
  static AgentSandbox agent;
  static final Map<String, Map<String, Cell>> MATRIX = new LinkedHashMap<>();

  @BeforeAll
  static void start() {
    agent = AgentSandbox.start("clients", session("client-matrix"));
  }

  @Test
  void everyClientJustWorks() {
    git();
    curl();
    python(
        "python requests",
        """
        import requests, sys
        r = requests.get(sys.argv[1])
        print("proto=HTTP/%.1f status=%d" % (r.raw.version / 10, r.status_code)); print(r.text[:300])
        """,
        false);
    python(
        "python httpx",
        """
        import httpx, sys
        with httpx.Client(http2=sys.argv[2] == "h2") as c:
            r = c.get(sys.argv[1])
        print("proto=%s status=%d" % (r.http_version, r.status_code)); print(r.text[:300])
        """,
        true);
    node();
    java();
    go();
    pip();
    npm();
    String table = table();
    System.out.println(
        "\nClient matrix (agent pod, only the webhook's trust variables):\n\n" + table);
    Transcript.note("client matrix\n" + table);
    Transcript.save("client-matrix.md", table.getBytes(StandardCharsets.UTF_8));
    List<String> failed = new ArrayList<>();
    MATRIX.forEach(
        (client, cells) ->
            cells.forEach(
                (column, cell) -> {
                  if (cell.applicable() && !cell.ok()) {
                    failed.add(client + " / " + column + ": " + cell.note());
                  }
                }));
    assertThat(failed).as("cells that should work").isEmpty();
  }

  // --- the clients --------------------------------------------------------------------------

  private void git() {
    // Default git (libcurl picks the protocol by ALPN); the trace shows what was negotiated and
    // redacts authorization headers (the agent has none anyway: the sidecar injects them).
    ProcessResult clone =
        sh(
            "rm -rf /tmp/m-repo && GIT_TRACE_CURL=1 GIT_TRACE_CURL_NO_DATA=1 git clone https://github.test/acme/repo-a.git /tmp/m-repo 2>&1"
                + " | grep -iE 'ALPN|fatal|error' ; cat /tmp/m-repo/README.md");
    boolean cloned = clone.stdout().contains("# acme/repo-a");
    ProcessResult fetch =
        sh(
            "cd /tmp/m-repo && git -c http.version=HTTP/1.1 fetch -v origin 2>&1 && git ls-remote origin");
    boolean fetched = fetch.success() && fetch.stdout().contains("refs/heads/main");
    ProcessResult push =
        sh(
            "cd /tmp/m-repo && echo x >> README.md && git -c user.name=a -c user.email=a@a.test commit -qam x"
                + " && git push origin HEAD:main 2>&1");
    row(
        "git (clone, fetch, push)",
        new Cell(
            true,
            cloned && fetched,
            cloned && fetched ? "clone + fetch of repo-a" : clip(clone.stdout() + fetch.stdout())),
        new Cell(
            true,
            !push.success() && push.stdout().contains("403"),
            "push: " + line(push.stdout(), "403|fatal|error")),
        new Cell(true, fetched, "fetch with -c http.version=HTTP/1.1"),
        new Cell(
            true,
            cloned && clone.stdout().contains("ALPN: server accepted h2"),
            "clone, libcurl: "
                + line(clone.stdout(), "ALPN: server accepted").replaceAll("^.*== Info: ", "")));
  }

  private void curl() {
    ProcessResult h1 =
        sh("curl -sS --http1.1 -w '\\nproto=HTTP/%{http_version} status=%{http_code}' " + ALLOWED);
    ProcessResult h2 =
        sh("curl -sS --http2 -w '\\nproto=HTTP/%{http_version} status=%{http_code}' " + ALLOWED);
    ProcessResult denied = sh("curl -sS -w '\\nstatus=%{http_code}' " + DENIED);
    row("curl", allowed(h1), denied(denied), proto(h1, "HTTP/1.1"), proto(h2, "HTTP/2"));
  }

  private void python(String name, String script, boolean h2) {
    String run = "python3 -c '" + script.replace("'", "'\\''") + "' ";
    ProcessResult h1 = sh(run + ALLOWED + " h1 2>&1");
    ProcessResult two = h2 ? sh(run + ALLOWED + " h2 2>&1") : null;
    ProcessResult denied = sh(run + DENIED + " h1 2>&1");
    row(
        name,
        allowed(h1),
        denied(denied),
        proto(h1, "HTTP/1.1"),
        h2 ? proto(two, "HTTP/2") : Cell.na("HTTP/1.1 only (urllib3)"));
  }

  private void node() {
    String fetch =
        "node -e 'fetch(process.argv[1]).then(async r => { const t = await r.text();"
            + " console.log(\"proto=HTTP/1.1 status=\" + r.status); console.log(t.slice(0, 300)); },"
            + " e => { console.log(\"error: \" + e + \" \" + (e.cause || \"\")); process.exit(2); })' ";
    ProcessResult f = sh(fetch + ALLOWED + " 2>&1");
    ProcessResult fd = sh(fetch + DENIED + " 2>&1");
    row(
        "node fetch",
        allowed(f),
        denied(fd),
        new Cell(true, allowed(f).ok(), "undici: HTTP/1.1 only"),
        Cell.na("fetch (undici) speaks HTTP/1.1 only"));
    String https =
        "node -e 'require(\"https\").get(process.argv[1], r => { let t = \"\"; r.on(\"data\", d => t += d);"
            + " r.on(\"end\", () => { console.log(\"proto=HTTP/\" + r.httpVersion + \" status=\" + r.statusCode); console.log(t.slice(0, 300)); }); })"
            + ".on(\"error\", e => { console.log(\"error: \" + e.message); process.exit(2); })' ";
    ProcessResult h = sh(https + ALLOWED + " 2>&1");
    ProcessResult hd = sh(https + DENIED + " 2>&1");
    row(
        "node https",
        allowed(h),
        denied(hd),
        proto(h, "HTTP/1.1"),
        Cell.na("https module is HTTP/1.1 (h2 is the http2 module)"));
  }

  private void java() {
    ProcessResult two = sh("java /opt/clients/Fetch.java " + ALLOWED + " 2>&1");
    ProcessResult h1 = sh("java /opt/clients/Fetch.java -h1 " + ALLOWED + " 2>&1");
    ProcessResult denied = sh("java /opt/clients/Fetch.java " + DENIED + " 2>&1");
    row(
        "Java HttpClient",
        allowed(two),
        denied(denied),
        proto(h1, "HTTP_1_1"),
        proto(two, "HTTP_2"));
  }

  private void go() {
    ProcessResult two = sh("gofetch " + ALLOWED + " 2>&1");
    ProcessResult h1 = sh("gofetch -h1 " + ALLOWED + " 2>&1");
    ProcessResult denied = sh("gofetch " + DENIED + " 2>&1");
    row("Go net/http", allowed(two), denied(denied), proto(h1, "HTTP/1.1"), proto(two, "HTTP/2.0"));
  }

  private void pip() {
    String pip =
        "pip install --no-cache-dir --disable-pip-version-check --target /tmp/pip-%s --index-url https://%s/simple/ %s 2>&1";
    ProcessResult ok =
        sh(
            String.format(pip, "a", "pypi.test", "capgate-hello")
                + " && PYTHONPATH=/tmp/pip-a python3 -c 'import capgate_hello; print(capgate_hello.GREETING)'");
    // pip reports an index page's 403 at debug level only (-vv); at the default level it says
    // "No matching distribution". Both are printed.
    ProcessResult denied =
        sh(
            String.format(pip, "b", "pypi.test", "capgate-other")
                    .replace("pip install", "pip install -vv")
                + " | grep -E 'Could not fetch URL|^ERROR'");
    boolean installed = ok.success() && ok.stdout().contains("hello from pypi.test");
    row(
        "pip (intercepted)",
        new Cell(
            true,
            installed,
            installed ? "installed capgate-hello, token checked upstream" : clip(ok.stdout())),
        new Cell(
            true,
            denied.stdout().contains("403") && denied.stdout().contains("No matching distribution"),
            pick(denied.stdout(), "(403 Client Error: Forbidden)")
                + " (pip -vv) → "
                + pick(denied.stdout(), "(ERROR: No matching distribution[^\n]*)")),
        new Cell(true, installed, "urllib3: HTTP/1.1"),
        Cell.na("pip speaks HTTP/1.1 only"));
    // tls: passthrough: the agent's own TLS reaches the index, so the index's certificate must
    // verify against what the agent trusts (system roots + the pod CA): this stack's upstream CA
    // is private, so the expected outcome here is a clear verification error, not an install.
    ProcessResult pass = sh(String.format(pip, "c", "pypi-direct.test", "capgate-hello"));
    // A name the session does not allow (in the pod's hosts file, so it resolves): refused at the
    // SNI.
    ProcessResult passDenied =
        sh(
            String.format(pip, "d", "internal.test", "capgate-hello")
                .replace(" 2>&1", " --timeout 5 --retries 1 2>&1"));
    boolean passInstalled = pass.success();
    boolean verifyError = pass.stdout().contains("CERTIFICATE_VERIFY_FAILED");
    boolean spliced =
        agent.sidecarLog().contains("\"host\":\"pypi-direct.test\",\"rule\":\"pypi-passthrough\"");
    row(
        "pip (tls: passthrough)",
        passInstalled
            ? new Cell(true, true, "installed through the splice")
            : Cell.na(
                (spliced && verifyError
                        ? "spliced (audit: allow, passthrough) to the index, whose cert is from this stack's private CA, "
                            + "which the agent does not trust (only the webhook's bundle: system roots + pod CA): "
                        : "")
                    + pick(pass.stdout(), "(\\[SSL: CERTIFICATE_VERIFY_FAILED\\][^(]*)")),
        new Cell(
            true,
            !passDenied.success() && !passDenied.stdout().contains("Successfully installed"),
            "SNI not allowed: "
                + pick(passDenied.stdout(), "(\\[SSL: TLSV1_ALERT_ACCESS_DENIED\\][^(]*)")),
        Cell.na("TLS is the agent's own"),
        Cell.na("pip speaks HTTP/1.1 only"));
  }

  private void npm() {
    String npm =
        "mkdir -p /tmp/npm-%s && cd /tmp/npm-%s && npm install --no-audit --no-fund --registry https://registry.npm.test/ %s 2>&1";
    ProcessResult ok =
        sh(
            String.format(npm, "a", "a", "capgate-hello")
                + " && node -e 'console.log(require(\"capgate-hello\"))'");
    ProcessResult denied = sh(String.format(npm, "b", "b", "capgate-other"));
    boolean installed = ok.success() && ok.stdout().contains("hello from registry.npm.test");
    row(
        "npm install",
        new Cell(
            true,
            installed,
            installed
                ? "installed capgate-hello, bearer token checked by the registry"
                : clip(ok.stdout())),
        new Cell(
            true,
            !denied.success() && denied.stdout().contains("403"),
            pick(denied.stdout(), "(403 Forbidden - GET [^\n]*)")),
        new Cell(true, installed, "HTTP/1.1"),
        Cell.na("npm speaks HTTP/1.1 only"));
  }

  // --- helpers --------------------------------------------------------------------------------

  private static ProcessResult sh(String script) {
    ProcessResult r =
        agent
            .kubectl()
            .shWithInput(
                agent.namespace(), AgentSandbox.POD, new byte[0], Duration.ofSeconds(240), script);
    System.out.println("$ " + script + "\n" + r.stdout() + r.stderr());
    return r;
  }

  /** The upstream answered 200 with repo-a: the injected token was accepted. */
  private static Cell allowed(ProcessResult r) {
    boolean ok =
        r.stdout().contains("status=200") && r.stdout().contains("\"full_name\":\"acme/repo-a\"");
    return new Cell(true, ok, ok ? "200, token checked upstream" : clip(r.stdout() + r.stderr()));
  }

  /** The sidecar's 403 with its JSON error, as the client surfaced it. */
  private static Cell denied(ProcessResult r) {
    String out = r.stdout() + r.stderr();
    boolean ok =
        out.contains("status=403") && out.contains("\"error\"") && !out.contains("\"full_name\"");
    Matcher m = Pattern.compile("\"error\":\"([^\"]*)\"").matcher(out);
    return new Cell(true, ok, ok ? "403 " + (m.find() ? m.group(1) : "") : clip(out));
  }

  private static Cell proto(ProcessResult r, String expected) {
    Matcher m = Pattern.compile("proto=(\\S+)").matcher(r.stdout());
    String seen = m.find() ? m.group(1) : "none";
    boolean ok = seen.equals(expected) && r.stdout().contains("status=200");
    return new Cell(true, ok, ok ? seen : "got " + seen + ": " + clip(r.stdout()));
  }

  private static void row(String client, Cell... cells) {
    Map<String, Cell> row = new LinkedHashMap<>();
    for (int i = 0; i < cells.length; i++) {
      row.put(COLUMNS.get(i), cells[i]);
    }
    MATRIX.put(client, row);
  }

  private static String line(String out, String regex) {
    Pattern p = Pattern.compile(regex);
    for (String l : out.split("\n")) {
      if (p.matcher(l).find()) {
        return clip(l.strip());
      }
    }
    return clip(out);
  }

  /** The first group of the regex in the output (the client's own words), or a clipped output. */
  private static String pick(String out, String regex) {
    Matcher m = Pattern.compile(regex).matcher(out);
    return m.find() ? clip(m.group(1).strip(), 160) : clip(out);
  }

  private static String clip(String s) {
    return clip(s, 110);
  }

  private static String clip(String s, int max) {
    String one = s.strip().replace("\n", " ⏎ ").replace("|", "\\|");
    return one.length() > max ? one.substring(0, max) + "…" : one;
  }

  static String table() {
    StringBuilder t = new StringBuilder("| client |");
    COLUMNS.forEach(c -> t.append(' ').append(c).append(" |"));
    t.append(" notes |\n| --- |");
    COLUMNS.forEach(c -> t.append(" :-: |"));
    t.append(" --- |\n");
    MATRIX.forEach(
        (client, cells) -> {
          t.append("| ").append(client).append(" |");
          StringBuilder notes = new StringBuilder();
          cells.forEach(
              (column, cell) -> {
                t.append(' ').append(cell.mark()).append(" |");
                notes
                    .append(notes.isEmpty() ? "" : "; ")
                    .append(column)
                    .append(": ")
                    .append(cell.note());
              });
          t.append(' ').append(notes).append(" |\n");
        });
    return t.toString();
  }
}
