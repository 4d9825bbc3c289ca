#!/usr/bin/env bash
# Fills in deploy/k8s/overlays/<env>/{config.env,params.env,kustomization.yaml}
# from `terraform output` (and a few values Terraform does not know), so the
# overlay matches what deploy/azure created. None of these values is a secret.
#
#   ATRIUM_OIDC_CLIENT_ID=<portal app id> \
#   ATRIUM_OIDC_AUDIENCE=api://atrium,<portal app id> \
#   ATRIUM_INGRESS_HOST=atrium.example.org \
#   ATRIUM_IMAGE_TAG=0.1.0 \
#   deploy/azure/scripts/k8s-env.sh dev|prod
#
# Optional: ATRIUM_HOME_TENANT_ID (default: the subscription's tenant).
# Values not given keep what the files have. Then check the result:
#   node tests/deploy/check.mjs --release
set -euo pipefail

env=${1:-}
case $env in dev|prod) ;; *) echo "usage: $0 dev|prod" >&2; exit 2 ;; esac
AZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OVERLAY="$AZ_DIR/../k8s/overlays/$env"

out() { terraform -chdir="$AZ_DIR" output -raw "$1"; }

# set_kv FILE KEY VALUE: replaces KEY=... in an env file (adds it if absent).
set_kv() {
  local file=$1 key=$2 value=$3 tmp
  [ -n "$value" ] || return 0
  case $value in *$'\n'*) echo "ERROR: $key has a newline" >&2; exit 1 ;; esac
  tmp=$(mktemp)
  awk -v k="$key" -v v="$value" 'BEGIN{done=0}
    index($0, k "=") == 1 { print k "=" v; done=1; next } { print }
    END { if (!done) print k "=" v }' "$file" >"$tmp"
  cat "$tmp" >"$file"
  rm -f "$tmp"
}

tenant=$(out tenant_id)
set_kv "$OVERLAY/config.env" ATRIUM_AZURE_TENANT_ID "$tenant"
set_kv "$OVERLAY/config.env" ATRIUM_HOME_TENANT_ID "${ATRIUM_HOME_TENANT_ID:-$tenant}"
# The worker's identity (ARM rights in the workload subscription); serve's
# (Key Vault secrets only) is a manifest parameter, never in Atrium's config.
set_kv "$OVERLAY/config.env" ATRIUM_AZURE_CLIENT_ID "$(out worker_identity_client_id)"
set_kv "$OVERLAY/config.env" ATRIUM_AZURE_SUBSCRIPTION_ID "$(out workload_subscription_id)"
set_kv "$OVERLAY/config.env" ATRIUM_STORAGE_ACCOUNT "$(out storage_account_name)"
set_kv "$OVERLAY/config.env" ATRIUM_STORAGE_BLOB_URL "$(out storage_blob_url)"
# The host the pods' redis-tls sidecar (stunnel) connects to with TLS on 6380.
set_kv "$OVERLAY/config.env" REDIS_TLS_HOST "$(out redis_host)"
set_kv "$OVERLAY/config.env" ATRIUM_OIDC_CLIENT_ID "${ATRIUM_OIDC_CLIENT_ID:-}"
set_kv "$OVERLAY/config.env" ATRIUM_OIDC_AUDIENCE "${ATRIUM_OIDC_AUDIENCE:-}"
set_kv "$OVERLAY/params.env" KEY_VAULT_NAME "$(out key_vault_name)"
set_kv "$OVERLAY/params.env" SERVE_AZURE_CLIENT_ID "$(out serve_identity_client_id)"
set_kv "$OVERLAY/params.env" INGRESS_HOST "${ATRIUM_INGRESS_HOST:-}"
if [ -n "${ATRIUM_INGRESS_HOST:-}" ]; then
  set_kv "$OVERLAY/config.env" ATRIUM_PUBLIC_URL "https://$ATRIUM_INGRESS_HOST"
fi

# The image: <acr login server>/atrium:<tag>.
registry=$(out acr_login_server)
tmp=$(mktemp)
awk -v img="$registry/atrium" -v tag="${ATRIUM_IMAGE_TAG:-}" '
  /^ *newName:/ { sub(/newName:.*/, "newName: " img) }
  /^ *newTag:/ && tag != "" { sub(/newTag:.*/, "newTag: \"" tag "\"") }
  { print }' "$OVERLAY/kustomization.yaml" >"$tmp"
cat "$tmp" >"$OVERLAY/kustomization.yaml"
rm -f "$tmp"

echo "updated $OVERLAY (config.env, params.env, kustomization.yaml images)"
grep -n '^[^#]*UNSET(' "$OVERLAY/config.env" "$OVERLAY/params.env" || echo "no UNSET(...) values left"
