# The Vault / OpenBao policy of the Capgate operator's token (vault.operatorToken): it revokes what
# a deleted or expired AgentSession's sidecars recorded in the session's lease ledger, and only
# that. The ledger is writable by the session's pods, so the operator checks every entry first:
# a lease must lie under one of the session's dynamic credential paths; a token accessor must
# belong to a token of the session's Kubernetes-auth role and namespace (lookup-accessor).
path "sys/leases/revoke" {
  capabilities = ["update"]
}
path "auth/token/lookup-accessor" {
  capabilities = ["update"]
}
path "auth/token/revoke-accessor" {
  capabilities = ["update"]
}
