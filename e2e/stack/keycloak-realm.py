#!/usr/bin/env python3
"""The OAuth side of the e2e stack (issue 15 §3), on a freshly started Keycloak: through its admin
REST API, a realm whose access tokens live 15 s and whose refresh tokens are single-use (so the
sidecar's write-back of the rotated token is what keeps the grant alive), the sidecar's confidential
client (its tokens carry the audience api.oauth.test), and the user alice; then Alice's grant, as
an authorization-code flow would have left it (here: a password grant of the test user), written
to REFRESH_TOKEN_FILE (mode 0600) for OpenBao.

  keycloak-realm.py URL CA_FILE REALM AUDIENCE ADMIN_PASSWORD_FILE CLIENT_SECRET_FILE \
      ALICE_PASSWORD_FILE REFRESH_TOKEN_FILE

Never prints a secret: on an error, the call and Keycloak's status (and RFC 6749 error code) only.
The admin API is called the same way by OAuthE2E (revoking the grant).
"""
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

url, ca, realm, audience, admin_pw_f, client_secret_f, alice_pw_f, out = sys.argv[1:9]
ctx = ssl.create_default_context(cafile=ca)


def read(f):
    with open(f) as fh:
        return fh.read().strip()


def call(method, path, body=None, form=None, token=None, ok=(200, 201, 204)):
    data, headers = None, {}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=60) as r:
            text = r.read().decode()
            return json.loads(text) if text.strip() else None
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return None
        err = ""
        try:
            err = json.loads(e.read().decode()).get("error", "")
        except Exception:
            pass
        sys.exit(f"keycloak-realm.py: {method} {path} answered {e.code} {err}".rstrip())


def token(realm_name, form):
    return call("POST", f"/realms/{realm_name}/protocol/openid-connect/token", form=form)


admin = token("master", {"grant_type": "password", "client_id": "admin-cli",
                         "username": "capgate-admin", "password": read(admin_pw_f)})["access_token"]
call("POST", "/admin/realms", token=admin, body={
    "realm": realm, "enabled": True,
    # Short access tokens: a revoked grant shows within a test (the sidecar refreshes a fifth of
    # the lifetime before expiry). Single-use refresh tokens: rotation on every refresh.
    "accessTokenLifespan": 15, "revokeRefreshToken": True, "refreshTokenMaxReuse": 0,
    # The grant must outlive a whole suite run without use (OAuthE2E may run 30 min after `up`).
    "ssoSessionIdleTimeout": 36000, "ssoSessionMaxLifespan": 36000,
})
call("POST", f"/admin/realms/{realm}/clients", token=admin, body={
    "clientId": "capgate-sidecar", "publicClient": False, "secret": read(client_secret_f),
    "standardFlowEnabled": False,
    "directAccessGrantsEnabled": True,  # only to seed alice's grant here
    "protocolMappers": [{
        "name": "audience-" + audience, "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "config": {"included.custom.audience": audience, "access.token.claim": "true",
                   "id.token.claim": "false"},
    }],
})
call("POST", f"/admin/realms/{realm}/users", token=admin, body={
    "username": "alice", "email": "alice@example.com", "firstName": "Alice",
    "lastName": "Example", "emailVerified": True, "enabled": True,
    "credentials": [{"type": "password", "value": read(alice_pw_f), "temporary": False}],
})
grant = token(realm, {"grant_type": "password", "client_id": "capgate-sidecar",
                      "client_secret": read(client_secret_f), "username": "alice",
                      "password": read(alice_pw_f)})
if not grant or not grant.get("refresh_token"):
    sys.exit("keycloak-realm.py: no refresh token for alice")
fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    f.write(grant["refresh_token"])
