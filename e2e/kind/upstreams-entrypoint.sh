#!/bin/sh
# Bare repositories acme/repo-a and acme/repo-b, then the upstreams on :8443.
set -eu
root=/tmp/git; work=$(mktemp -d)
export HOME=/tmp
for repo in repo-a repo-b; do
  git init -q --bare -b main "$root/acme/$repo.git"
  git -C "$root/acme/$repo.git" config http.receivepack true
  git init -q -b main "$work/$repo"
  printf '# acme/%s\n\nIssue 42: the parser drops the last line.\n' "$repo" > "$work/$repo/README.md"
  git -C "$work/$repo" add . && git -C "$work/$repo" -c user.name=acme -c user.email=dev@acme.test commit -qm "initial commit"
  git -C "$work/$repo" push -q "$root/acme/$repo.git" main
done
exec java -XX:+UseSerialGC -cp '/opt/upstreams/classes:/opt/upstreams/lib/*' dev.capgate.e2e.upstream.Upstreams \
  --port 8443 --cert /tls/tls.crt --key /tls/tls.key --git-root "$root" \
  --token-file /secrets/github-token --mcp-token-file /secrets/mcp-token --jwks "$JWKS_URL" ${JWKS_CA:+--jwks-ca "$JWKS_CA"} \
  ${GITHUB_APP_ID:+--github-app-id "$GITHUB_APP_ID" --github-app-installation "$GITHUB_APP_INSTALLATION" --github-app-public-key-file /secrets/github-app.pub.pem}
