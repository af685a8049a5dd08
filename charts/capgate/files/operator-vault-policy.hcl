# The Vault / OpenBao policy of the Capgate operator's token (vault.operatorToken): when an
# AgentSession is deleted or expires, it revokes the Vault tokens the operator issued for it
# (capgate-tokens-<session>) and what its sidecars recorded in its lease ledger, and only that.
# The ledger is writable by the session's pods, so the operator checks every entry first: a lease
# must lie under one of the session's dynamic credential paths; a token accessor must belong to a
# token of the session's JWT-auth mount and role with the session's namespace and name in its
# metadata (lookup-accessor). Logging in for a sidecar (auth/<mount>/login with a session JWT)
# needs no capability: login paths are unauthenticated, the JWT is the credential.
path "sys/leases/revoke" {
  capabilities = ["update"]
}
path "auth/token/lookup-accessor" {
  capabilities = ["update"]
}
path "auth/token/revoke-accessor" {
  capabilities = ["update"]
}
