package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.GitPush;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 §1, git-aware rules, on real components: real {@code git push} as the agent, through the
 * real sidecar (TLS intercepted with the pod CA, the credential from a real OpenBao injected as
 * git's Basic x-access-token), to a real smart-HTTP server ({@code git http-backend} behind a small
 * HTTPS front in the upstream namespace that refuses any request without that credential). Each
 * refused push is shown as git printed it, and the upstream repository is checked unchanged.
 */
class GitPushIT {
  private static final String SECRET = "ghp_" + HexFormat.of().formatHex(SecureRandom.getSeed(12));
  private static final String USER = "alice@example.com";
  private static final String ORIGIN = "https://api.github.test:9443/";

  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  private static Path repos;
  private static Path work;
  private static final AtomicInteger clones = new AtomicInteger();

  /**
   * The upstream git server: HTTPS (the upstream test certificate), every request must carry the
   * expected Authorization (else 401), then CGI to {@code git http-backend}. One line per request
   * on stdout ("GIT <method> <path> <status>"): what the upstream saw.
   */
  private static final String GIT_SERVER =
      """
      import http.server, os, socket, ssl, subprocess, sys
      root, cert, key, authfile = sys.argv[1:5]
      expected = open(authfile).read().strip()
      class Handler(http.server.BaseHTTPRequestHandler):
          protocol_version = 'HTTP/1.1'
          def log_message(self, *args):
              pass
          def handle_one(self, method):
              path, _, query = self.path.partition('?')
              if self.headers.get('Authorization') != expected:
                  self.send_response(401)
                  self.send_header('WWW-Authenticate', 'Basic realm="git"')
                  self.send_header('Content-Length', '0')
                  self.end_headers()
                  print('GIT', method, path, 401, flush=True)
                  return
              if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
                  body = b''
                  while True:
                      size = int(self.rfile.readline().split(b';')[0], 16)
                      if size == 0:
                          while self.rfile.readline() not in (b'\\r\\n', b'\\n', b''):
                              pass
                          break
                      body += self.rfile.read(size)
                      self.rfile.readline()
              else:
                  body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
              env = {'PATH': os.environ['PATH'], 'GIT_PROJECT_ROOT': root, 'GIT_HTTP_EXPORT_ALL': '1',
                     'REQUEST_METHOD': method, 'PATH_INFO': path, 'QUERY_STRING': query,
                     'CONTENT_TYPE': self.headers.get('Content-Type', ''), 'CONTENT_LENGTH': str(len(body)),
                     'REMOTE_USER': 'agent', 'REMOTE_ADDR': self.client_address[0]}
              out = subprocess.run(['git', 'http-backend'], input=body, env=env, capture_output=True).stdout
              head, _, content = out.partition(b'\\r\\n\\r\\n')
              status = 200
              headers = []
              for line in head.decode('latin-1').split('\\r\\n'):
                  name, _, value = line.partition(':')
                  if name.lower() == 'status':
                      status = int(value.strip().split(' ')[0])
                  elif name:
                      headers.append((name, value.strip()))
              self.send_response(status)
              for name, value in headers:
                  self.send_header(name, value)
              self.send_header('Content-Length', str(len(content)))
              self.end_headers()
              self.wfile.write(content)
              print('GIT', method, path, status, flush=True)
          def do_GET(self):
              self.handle_one('GET')
          def do_POST(self):
              self.handle_one('POST')
      class Server(http.server.ThreadingHTTPServer):
          address_family = socket.AF_INET6
      server = Server(('::', 9443), Handler)
      ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
      ctx.load_cert_chain(cert, key)
      server.socket = ctx.wrap_socket(server.socket, server_side=True)
      print('git server ready', flush=True)
      server.serve_forever()
      """;

  @BeforeAll
  static void startPod() throws IOException {
    VaultKv vault = new VaultKv().put("github/" + USER, "token", SECRET);
    pod = DataPlanePod.start("GitPushIT", vault.address());
    repos = pod.dir().resolve("repos");
    seed("repo.git");
    seed("frozen.git");
    seed("force.git");
    seed("small.git");
    Path authFile = pod.dir().resolve("git-server-auth");
    Files.createFile(
        authFile,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(
        authFile,
        "Basic "
            + Base64.getEncoder()
                .encodeToString(("x-access-token:" + SECRET).getBytes(StandardCharsets.UTF_8)));
    Path script = Files.writeString(pod.dir().resolve("git-server.py"), GIT_SERVER);
    Path up = pod.dir().resolve("upstream");
    pod.startInPeer(
        "git-server.log",
        "git server ready",
        "python3",
        script.toString(),
        repos.toString(),
        up.resolve("server.crt").toString(),
        up.resolve("server.key").toString(),
        authFile.toString());
    pod.startSidecar(
        SessionSpecs.session("git-push")
            .user(USER)
            .credential(
                kv2("github-git", vault.path("github/{{user}}"), "token")
                    .basic("x-access-token")
                    .build())
            .egress(
                rule("git-push")
                    .hosts("api.github.test")
                    .ports(9443)
                    .methods(GET, POST)
                    .paths("/repo.git/**")
                    .credential("github-git")
                    .git(new GitPush(List.of("refs/heads/agent/**"), null, null, null)),
                rule("git-frozen")
                    .hosts("api.github.test")
                    .ports(9443)
                    .methods(GET, POST)
                    .paths("/frozen.git/**")
                    .credential("github-git")
                    .git(new GitPush(List.of("refs/heads/agent/**"), null, false, null)),
                rule("git-force")
                    .hosts("api.github.test")
                    .ports(9443)
                    .methods(GET, POST)
                    .paths("/force.git/**")
                    .credential("github-git")
                    .git(new GitPush(List.of("refs/heads/agent/**"), null, null, null, true, null)),
                rule("git-small")
                    .hosts("api.github.test")
                    .ports(9443)
                    .methods(GET, POST)
                    .paths("/small.git/**")
                    .credential("github-git")
                    .git(
                        new GitPush(List.of("refs/heads/agent/**"), null, null, null, null, 65536)))
            .json(),
        vault.readerToken(),
        List.of());
    work = pod.dir().resolve("agent-git");
    Files.createDirectories(work);
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxrwxrwx"));
  }

  /** A bare repository with one commit on main, accepting pushes over HTTP. */
  private static void seed(String name) throws IOException {
    Path bare = repos.resolve(name);
    Path seed = repos.resolve(name + "-seed");
    Files.createDirectories(seed);
    host("git", "init", "-q", "--bare", "-b", "main", bare.toString());
    host("git", "--git-dir", bare.toString(), "config", "http.receivepack", "true");
    host("git", "init", "-q", "-b", "main", seed.toString());
    Files.writeString(seed.resolve("README"), "seed\n");
    host("git", "-C", seed.toString(), "add", "README");
    host(
        "git",
        "-C",
        seed.toString(),
        "-c",
        "user.name=seed",
        "-c",
        "user.email=seed@example.com",
        "commit",
        "-q",
        "-m",
        "seed");
    host("git", "-C", seed.toString(), "push", "-q", bare.toString(), "main");
  }

  // ------------------------------------------------------------------ allowed

  @Test
  void a_branch_push_under_agent_is_allowed() {
    Path clone = cloneOf("repo.git");
    commit(clone, "work on x");
    Command.Result push = git(clone, "push", "origin", "HEAD:refs/heads/agent/x");
    print("allowed push", push);
    assertThat(push.exitCode()).as(push.all()).isZero();
    assertThat(upstreamRef("repo.git", "refs/heads/agent/x"))
        .isEqualTo(git(clone, "rev-parse", "HEAD").stdout().strip());
    JsonObject audit =
        AuditLines.awaitLast(
            pod, "api.github.test", "allowed by rule 'git-push'; git push: ref updates allowed");
    assertThat(audit.getString("path")).isEqualTo("/repo.git/git-receive-pack");
    assertThat(audit.getString("decision")).isEqualTo("allow");
    assertThat(audit.getString("rule")).isEqualTo("git-push");
  }

  @Test
  void a_large_allowed_push_streams_through_whole() throws IOException {
    // 3 MiB, held only until its commands are judged, then streamed whole.
    Path clone = cloneOf("repo.git");
    commitRandomFile(clone, "big.bin", 3 * 1024 * 1024, "big");
    assertPushedHead(clone, "large push", "refs/heads/agent/big", "-c", LARGE_POST_BUFFER);
  }

  @Test
  void a_fast_forward_push_is_allowed_small_and_large() throws IOException {
    Path clone = cloneOf("repo.git");
    commit(clone, "start ff");
    assertThat(git(clone, "push", "origin", "HEAD:refs/heads/agent/ff").exitCode()).isZero();
    commit(clone, "one more");
    assertPushedHead(clone, "fast-forward push", "refs/heads/agent/ff");
    JsonObject audit =
        AuditLines.awaitLast(
            pod,
            "api.github.test",
            "allowed by rule 'git-push'; git push: ref updates allowed; git push: fast-forward"
                + " proven for 1 ref");
    assertThat(audit.getString("decision")).isEqualTo("allow");
    // A pack over the sidecar's inline bound: read off the event loop.
    commitRandomFile(clone, "big-ff.bin", 3 * 1024 * 1024, "big fast-forward");
    assertPushedHead(
        clone, "large fast-forward push", "refs/heads/agent/ff", "-c", LARGE_POST_BUFFER);
  }

  @Test
  void a_push_merging_main_into_the_branch_is_allowed() throws IOException {
    Path clone = cloneOf("repo.git");
    commit(clone, "branch work");
    assertThat(git(clone, "push", "origin", "HEAD:refs/heads/agent/merge").exitCode()).isZero();
    // main moves on the server meanwhile (a person merged something)
    Path seed = repos.resolve("repo.git-seed");
    Files.writeString(seed.resolve("MAIN-" + clones.get()), "moved\n");
    host("git", "-C", seed.toString(), "add", ".");
    host(
        "git",
        "-C",
        seed.toString(),
        "-c",
        "user.name=seed",
        "-c",
        "user.email=seed@example.com",
        "commit",
        "-q",
        "-m",
        "main moved");
    host(
        "git",
        "-C",
        seed.toString(),
        "pull",
        "-q",
        "--rebase",
        repos.resolve("repo.git").toString(),
        "main");
    host("git", "-C", seed.toString(), "push", "-q", repos.resolve("repo.git").toString(), "main");
    assertThat(git(clone, "fetch", "-q", "origin").exitCode()).isZero();
    Command.Result merge = git(clone, "merge", "-q", "--no-edit", "origin/main");
    assertThat(merge.exitCode()).as(merge.all()).isZero();
    Command.Result push = git(clone, "push", "origin", "HEAD:refs/heads/agent/merge");
    print("merge-from-main push", push);
    assertThat(push.exitCode()).as(push.all()).isZero();
    assertThat(upstreamRef("repo.git", "refs/heads/agent/merge"))
        .isEqualTo(git(clone, "rev-parse", "HEAD").stdout().strip());
  }

  @Test
  void a_force_push_is_allowed_where_the_rule_allows_it() {
    Path clone = cloneOf("force.git");
    commit(clone, "first");
    assertThat(git(clone, "push", "origin", "HEAD:refs/heads/agent/f").exitCode()).isZero();
    git(clone, "commit", "-q", "--allow-empty", "--amend", "-m", "rewritten");
    Command.Result force = git(clone, "push", "--force", "origin", "HEAD:refs/heads/agent/f");
    print("allowed force-push", force);
    assertThat(force.exitCode()).as(force.all()).isZero();
    assertThat(force.stderr()).contains("(forced update)");
    assertThat(upstreamRef("force.git", "refs/heads/agent/f"))
        .isEqualTo(git(clone, "rev-parse", "HEAD").stdout().strip());
  }

  // ------------------------------------------------------------------ refused

  @Test
  void a_force_push_of_a_rewritten_branch_is_refused_with_the_reason_git_prints() {
    Path clone = cloneOf("repo.git");
    commit(clone, "to be rewritten");
    assertThat(git(clone, "push", "origin", "HEAD:refs/heads/agent/rw").exitCode()).isZero();
    String before = upstreamRef("repo.git", "refs/heads/agent/rw");
    long postsBefore = receivePackPosts("repo.git");
    git(clone, "commit", "-q", "--allow-empty", "--amend", "-m", "rewritten");
    Command.Result force = git(clone, "push", "--force", "origin", "HEAD:refs/heads/agent/rw");
    print("force-push of a rewritten branch", force);
    assertThat(force.exitCode()).as(force.all()).isNotZero();
    assertThat(force.stderr())
        .contains("remote: capgate: push refused: refs/heads/agent/rw: possible force-push:")
        .contains("fetch and merge first or ask for forcePush on rule 'git-push'")
        .contains("! [remote rejected] HEAD -> agent/rw (possible force-push:");
    assertThat(upstreamRef("repo.git", "refs/heads/agent/rw")).isEqualTo(before);
    assertThat(receivePackPosts("repo.git"))
        .as("the push never reached the server")
        .isEqualTo(postsBefore);
    JsonObject audit =
        AuditLines.awaitLast(
            pod, "api.github.test", "git-push-refused: refs/heads/agent/rw: possible force-push");
    assertThat(audit.getString("decision")).isEqualTo("deny");
    assertThat(audit.getString("rule")).isEqualTo("git-push");
  }

  @Test
  void a_move_whose_pack_is_over_max_pack_bytes_is_refused_while_it_streams() throws IOException {
    Path clone = cloneOf("small.git");
    commit(clone, "small start");
    assertThat(git(clone, "push", "origin", "HEAD:refs/heads/agent/s").exitCode()).isZero();
    String before = upstreamRef("small.git", "refs/heads/agent/s");
    // 1.5 MiB, refused once 64 KiB of pack have streamed in and read to its end. Sent as one
    // buffered body for the same agent-side git/libcurl stall as the other large pushes (a CI run
    // timed out here); the sidecar still judges the DATA frames as they arrive.
    commitRandomFile(clone, "over.bin", 1536 * 1024, "over the bound");
    Command.Result push =
        git(clone, "-c", LARGE_POST_BUFFER, "push", "origin", "HEAD:refs/heads/agent/s");
    print("pack over maxPackBytes", push);
    assertThat(push.exitCode()).as(push.all()).isNotZero();
    assertThat(push.stderr())
        .contains("push too large to check for force-push: pack over 65536 bytes")
        .contains("ask for forcePush");
    assertThat(upstreamRef("small.git", "refs/heads/agent/s")).isEqualTo(before);
  }

  @Test
  void moving_a_branch_back_to_a_commit_the_server_has_is_refused_as_unprovable() {
    Path clone = cloneOf("repo.git");
    commit(clone, "ahead");
    assertThat(git(clone, "push", "origin", "HEAD:refs/heads/agent/back").exitCode()).isZero();
    Command.Result back =
        git(clone, "push", "--force", "origin", "origin/main:refs/heads/agent/back");
    print("reset to a commit the server has", back);
    assertThat(back.exitCode()).as(back.all()).isNotZero();
    assertThat(back.stderr()).contains("is not in the pushed pack");
  }

  @Test
  void a_push_to_main_is_refused_with_the_reason_git_prints_and_main_is_unchanged() {
    Path clone = cloneOf("repo.git");
    String mainBefore = upstreamRef("repo.git", "refs/heads/main");
    long postsBefore = receivePackPosts("repo.git");
    commit(clone, "straight to main");
    Command.Result push = git(clone, "push", "origin", "HEAD:main");
    print("push to main", push);
    assertThat(push.exitCode()).as(push.all()).isNotZero();
    assertThat(push.stderr())
        .contains("! [remote rejected] HEAD -> main (ref not allowed by rule 'git-push')")
        .contains("remote: capgate: push refused: refs/heads/main: ref not allowed by rule");
    assertThat(upstreamRef("repo.git", "refs/heads/main")).isEqualTo(mainBefore);
    assertThat(receivePackPosts("repo.git"))
        .as("the push never reached the server")
        .isEqualTo(postsBefore);
    JsonObject audit =
        AuditLines.awaitLast(pod, "api.github.test", "git-push-refused: refs/heads/main");
    assertThat(audit.getString("decision")).isEqualTo("deny");
    assertThat(audit.getString("rule")).isEqualTo("git-push");
  }

  @Test
  void a_force_push_is_refused_where_the_rule_forbids_moving_a_ref() {
    Path clone = cloneOf("frozen.git");
    commit(clone, "first");
    Command.Result create = git(clone, "push", "origin", "HEAD:refs/heads/agent/y");
    assertThat(create.exitCode()).as(create.all()).isZero();
    String before = upstreamRef("frozen.git", "refs/heads/agent/y");
    git(clone, "commit", "-q", "--allow-empty", "--amend", "-m", "rewritten");
    Command.Result force = git(clone, "push", "--force", "origin", "HEAD:refs/heads/agent/y");
    print("force-push", force);
    assertThat(force.exitCode()).as(force.all()).isNotZero();
    assertThat(force.stderr())
        .contains("[remote rejected]")
        .contains("updating existing refs is not allowed by rule 'git-frozen'");
    assertThat(upstreamRef("frozen.git", "refs/heads/agent/y")).isEqualTo(before);
  }

  @Test
  void a_force_push_to_main_is_refused() {
    Path clone = cloneOf("repo.git");
    String mainBefore = upstreamRef("repo.git", "refs/heads/main");
    git(clone, "commit", "-q", "--amend", "-m", "rewrite main");
    Command.Result force = git(clone, "push", "--force", "origin", "HEAD:main");
    print("force-push to main", force);
    assertThat(force.exitCode()).as(force.all()).isNotZero();
    assertThat(force.stderr()).contains("ref not allowed by rule 'git-push'");
    assertThat(upstreamRef("repo.git", "refs/heads/main")).isEqualTo(mainBefore);
  }

  @Test
  void a_branch_delete_is_refused() {
    Path clone = cloneOf("repo.git");
    commit(clone, "to be kept");
    assertThat(git(clone, "push", "origin", "HEAD:refs/heads/agent/keep").exitCode()).isZero();
    String before = upstreamRef("repo.git", "refs/heads/agent/keep");
    Command.Result delete = git(clone, "push", "origin", ":refs/heads/agent/keep");
    print("branch delete", delete);
    assertThat(delete.exitCode()).as(delete.all()).isNotZero();
    assertThat(delete.stderr())
        .contains("[remote rejected]")
        .contains("deleting refs is not allowed by rule 'git-push'");
    assertThat(upstreamRef("repo.git", "refs/heads/agent/keep")).isEqualTo(before);
  }

  @Test
  void a_tag_is_refused() {
    Path clone = cloneOf("repo.git");
    git(clone, "tag", "v1.0");
    Command.Result tag = git(clone, "push", "origin", "refs/tags/v1.0");
    print("tag push", tag);
    assertThat(tag.exitCode()).as(tag.all()).isNotZero();
    assertThat(tag.stderr())
        .contains("! [remote rejected] v1.0 -> v1.0 (ref not allowed by rule 'git-push')");
    assertThat(upstreamRef("repo.git", "refs/tags/v1.0")).isEmpty();
  }

  @Test
  void a_push_with_one_refused_ref_moves_none() {
    Path clone = cloneOf("repo.git");
    commit(clone, "both");
    Command.Result push =
        git(clone, "push", "origin", "HEAD:refs/heads/agent/both", "HEAD:refs/heads/main");
    print("mixed push", push);
    assertThat(push.exitCode()).as(push.all()).isNotZero();
    assertThat(push.stderr())
        .contains("push refused whole by capgate: refs/heads/main is not allowed");
    assertThat(upstreamRef("repo.git", "refs/heads/agent/both")).isEmpty();
  }

  @Test
  void refused_pushes_are_counted_as_denials_of_their_rule() {
    Path clone = cloneOf("repo.git");
    git(clone, "tag", "counted");
    assertThat(git(clone, "push", "origin", "refs/tags/counted").exitCode()).isNotZero();
    // Counted when the exchange ends, which may be a moment after git saw its answer.
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        pod.inPod("curl", "-s", "http://127.0.0.1:14021/metrics")
                            .stdout()
                            .lines()
                            .filter(l -> l.startsWith("capgate_decisions_total{"))
                            .filter(l -> l.contains("rule=\"git-push\""))
                            .filter(l -> l.contains("outcome=\"deny\""))
                            .filter(l -> l.contains("level=\"request\"")))
                    .isNotEmpty());
  }

  @Test
  void no_log_and_no_git_output_holds_the_credential() {
    Path clone = cloneOf("repo.git");
    commit(clone, "secret check");
    Command.Result push = git(clone, "push", "origin", "HEAD:refs/heads/main");
    assertThat(push.all()).doesNotContain(SECRET);
    for (Path file : pod.logFiles()) {
      assertThat(pod.log(file.getFileName().toString())).as(file.toString()).doesNotContain(SECRET);
    }
    // Packs are held as retained slices of the body chunks: none may leak (paranoid detection).
    assertThat(pod.log("sidecar.log")).doesNotContain("LEAK");
  }

  // ------------------------------------------------------------------ helpers

  private static Path cloneOf(String repo) {
    Path clone = work.resolve(repo + "-" + clones.incrementAndGet());
    Command.Result r =
        pod.asAgent(
            env(), Duration.ofSeconds(60), "git", "clone", "-q", ORIGIN + repo, clone.toString());
    assertThat(r.exitCode()).as(r.all()).isZero();
    return clone;
  }

  private static void commit(Path clone, String message) {
    Command.Result r = git(clone, "commit", "-q", "--allow-empty", "-m", message);
    assertThat(r.exitCode()).as(r.all()).isZero();
  }

  /**
   * Pushes the clone's HEAD to {@code ref} of repo.git (git options such as {@code -c k=v} first),
   * prints git's output, and checks the push went through and the upstream ref is HEAD now.
   */
  private static void assertPushedHead(Path clone, String label, String ref, String... options) {
    String[] args = new String[options.length + 3];
    System.arraycopy(options, 0, args, 0, options.length);
    args[options.length] = "push";
    args[options.length + 1] = "origin";
    args[options.length + 2] = "HEAD:" + ref;
    Command.Result push = git(clone, args);
    print(label, push);
    assertThat(push.exitCode()).as(push.all()).isZero();
    assertThat(upstreamRef("repo.git", ref))
        .isEqualTo(git(clone, "rev-parse", "HEAD").stdout().strip());
  }

  /** Commits a file of {@code size} random bytes (incompressible: the pack is as big). */
  private static void commitRandomFile(Path clone, String name, int size, String message)
      throws IOException {
    byte[] data = new byte[size];
    new SecureRandom().nextBytes(data);
    Files.write(clone.resolve(name), data);
    // Written here as root; git runs as the agent's uid.
    Files.setPosixFilePermissions(
        clone.resolve(name), PosixFilePermissions.fromString("rw-rw-rw-"));
    assertThat(git(clone, "add", name).exitCode()).isZero();
    commit(clone, message);
  }

  /**
   * For the 3 MiB pushes: git sends them as one buffered body. Streamed from git's read callback (a
   * body over the default 1 MiB post buffer), the agent's own git 2.39 / libcurl 7.88 deadlocks now
   * and then under load a little before the end of the body: git-remote-https waits in the read
   * callback for more of a body send-pack has already ended, while send-pack waits for the answer.
   * The sidecar had read and consumed every byte it was sent and offered window (investigated with
   * the stream's flow-control state at the stall; a larger HTTP/2 window did not help). What the
   * sidecar sees is the same HTTP/2 DATA frames, with a content-length. docs/git-push-h2-stall.md.
   */
  private static final String LARGE_POST_BUFFER = "http.postBuffer=8388608";

  private static Command.Result git(Path clone, String... args) {
    String[] command = new String[args.length + 3];
    command[0] = "git";
    command[1] = "-C";
    command[2] = clone.toString();
    System.arraycopy(args, 0, command, 3, args.length);
    return pod.asAgent(env(), Duration.ofSeconds(60), command);
  }

  private static Map<String, String> env() {
    return Map.of(
        "GIT_SSL_CAINFO", pod.podCaCert().toString(),
        "GIT_TERMINAL_PROMPT", "0",
        "GIT_AUTHOR_NAME", "agent",
        "GIT_AUTHOR_EMAIL", "agent@example.com",
        "GIT_COMMITTER_NAME", "agent",
        "GIT_COMMITTER_EMAIL", "agent@example.com");
  }

  /** The ref's object id in the upstream repository, or "" when it does not exist. */
  private static String upstreamRef(String repo, String ref) {
    Command.Result r =
        Command.run(
            List.of(
                "git",
                "--git-dir",
                repos.resolve(repo).toString(),
                "rev-parse",
                "--verify",
                "-q",
                ref),
            Duration.ofSeconds(10),
            Map.of(),
            null);
    return r.exitCode() == 0 ? r.stdout().strip() : "";
  }

  /** Receive-pack requests the upstream server answered for {@code repo}. */
  private static long receivePackPosts(String repo) {
    return pod.log("git-server.log")
        .lines()
        .filter(l -> l.startsWith("GIT POST /" + repo + "/git-receive-pack"))
        .count();
  }

  /** The git client's stderr, as the evidence the issue asks for. */
  private static void print(String what, Command.Result r) {
    System.out.println("---- " + what + ": git exit " + r.exitCode() + "\n" + r.stderr());
  }

  private static void host(String... command) {
    Command.Result r = Command.run(List.of(command), Duration.ofSeconds(30), Map.of(), null);
    if (r.exitCode() != 0) {
      throw new UncheckedIOException(new IOException(r.all()));
    }
  }
}
