#!/usr/bin/env bash
# Puts Atrium's secrets into the environment's Key Vault, under exactly the
# names deploy/k8s/base/secretproviderclass.yaml reads, and creates the
# application's PostgreSQL role (non-superuser, so row-level security
# applies) owning the four databases. Safe to run again: it keeps the
# role's password (Key Vault secret atrium-db-password) and rewrites the rest.
#
#   deploy/azure/scripts/put-secrets.sh dev|prod
#
# Needs: az (logged in, with Key Vault Secrets Officer on the vault:
# Terraform grants it to whoever applied), terraform (initialised for that
# environment: terraform init -backend-config=env/<env>.backend.hcl),
# kubectl (current context: that environment's AKS; PostgreSQL is reachable
# only from inside the VNet, so the role is created from a short-lived pod),
# openssl; your address in operator_ip_ranges (the vault's firewall).
#
# Secrets that only you know, from the environment (never on a command line):
#   ATRIUM_OIDC_CLIENT_SECRET          the portal app registration's client secret
#   ATRIUM_QUICKBOOKS_VERIFIER_TOKEN   Intuit webhook verifier token
#   ATRIUM_PAX8_WEBHOOK_SECRET         the Authorization value of the Pax8 webhook
set -euo pipefail

env=${1:-}
case $env in dev|prod) ;; *) echo "usage: $0 dev|prod" >&2; exit 2 ;; esac
AZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

for v in ATRIUM_OIDC_CLIENT_SECRET ATRIUM_QUICKBOOKS_VERIFIER_TOKEN ATRIUM_PAX8_WEBHOOK_SECRET; do
  if [ -z "${!v:-}" ]; then echo "ERROR: set $v in the environment" >&2; exit 2; fi
done
for tool in az terraform kubectl openssl; do
  command -v "$tool" >/dev/null || { echo "ERROR: $tool is not installed" >&2; exit 2; }
done

out() { terraform -chdir="$AZ_DIR" output -raw "$1"; }
rg=$(out resource_group_name)
kv=$(out key_vault_name)
pg_host=$(out postgres_host)
pg_admin=$(out postgres_admin_login)
pg_admin_pw=$(out postgres_admin_password)
redis_name=$(out redis_name)
redis_host=$(out redis_host)
redis_port=$(out redis_ssl_port)
storage=$(out storage_account_name)

# secret NAME VALUE: writes one Key Vault secret, the value through a file
# descriptor (not the command line).
secret() {
  az keyvault secret set --vault-name "$kv" --name "$1" --file <(printf '%s' "$2") \
    --encoding utf-8 --output none
  echo "  $1"
}

echo "==> the application role's password (atrium-db-password)"
if pw=$(az keyvault secret show --vault-name "$kv" --name atrium-db-password --query value -o tsv 2>/dev/null) && [ -n "$pw" ]; then
  echo "  kept"
else
  pw=$(openssl rand -hex 24)
  secret atrium-db-password "$pw"
fi

echo "==> PostgreSQL: role atrium owning auth_db, portal_db, betting_db, billing_db, catalog_db"
kubectl get namespace atrium-ops >/dev/null 2>&1 || kubectl create namespace atrium-ops
# stdin: the administrator's password, then the SQL (so neither password is
# in the pod's spec or on a command line).
{
  printf '%s\n' "$pg_admin_pw"
  printf "\\\\set pw '%s'\n" "$pw"
  cat <<'SQL'
SELECT format('CREATE ROLE atrium LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'atrium') \gexec
ALTER ROLE atrium WITH LOGIN PASSWORD :'pw';
-- PostgreSQL 15: the administrator may give a database to a role it belongs to.
GRANT atrium TO CURRENT_USER;
ALTER DATABASE auth_db OWNER TO atrium;
ALTER DATABASE portal_db OWNER TO atrium;
ALTER DATABASE betting_db OWNER TO atrium;
ALTER DATABASE billing_db OWNER TO atrium;
ALTER DATABASE catalog_db OWNER TO atrium;
\c auth_db
CREATE EXTENSION IF NOT EXISTS pgcrypto;
\c portal_db
CREATE EXTENSION IF NOT EXISTS pgcrypto;
\c betting_db
CREATE EXTENSION IF NOT EXISTS pgcrypto;
\c billing_db
CREATE EXTENSION IF NOT EXISTS pgcrypto;
\c catalog_db
CREATE EXTENSION IF NOT EXISTS pgcrypto;
SQL
} | kubectl -n atrium-ops run "atrium-db-bootstrap-$(date +%s)" --rm -i --restart=Never --quiet \
      --image=postgres:15-bookworm --env=PGHOST="$pg_host" --env=PGUSER="$pg_admin" \
      --env=PGDATABASE=postgres --env=PGSSLMODE=require \
      --command -- sh -c 'IFS= read -r PGPASSWORD && export PGPASSWORD && exec psql -X -q -v ON_ERROR_STOP=1 -f -'

echo "==> Key Vault $kv"
# libpq 15 (Debian bookworm) verifies the server against the CA bundle of
# the image (ca-certificates: DigiCert Global Root G2, Microsoft RSA Root
# Certificate Authority 2017).
tls='sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt'
secret atrium-db-auth-url "postgresql://atrium:$pw@$pg_host:5432/auth_db?$tls"
secret atrium-db-portal-url "postgresql://atrium:$pw@$pg_host:5432/portal_db?$tls"
secret atrium-db-betting-url "postgresql://atrium:$pw@$pg_host:5432/betting_db?$tls"
secret atrium-db-billing-url "postgresql://atrium:$pw@$pg_host:5432/billing_db?$tls"
secret atrium-db-catalog-url "postgresql://atrium:$pw@$pg_host:5432/catalog_db?$tls"

# Azure Cache for Redis, the access key as the password. Atrium speaks plain
# Redis to its pod's redis-tls sidecar (stunnel) on 127.0.0.1:6379, which
# carries it over TLS to REDIS_TLS_HOST:6380 (the overlay's config.env,
# written by k8s-env.sh) and verifies the certificate. Atrium takes the
# password between ':' and '@' verbatim (no percent-decoding).
overlay_config="$AZ_DIR/../k8s/overlays/$env/config.env"
tunnel_host=$(sed -n 's/^REDIS_TLS_HOST=//p' "$overlay_config" 2>/dev/null || true)
if [ "$tunnel_host" != "$redis_host" ]; then
  echo "  NOTE: $overlay_config has REDIS_TLS_HOST=$tunnel_host, Terraform's redis_host is $redis_host: run deploy/azure/scripts/k8s-env.sh $env" >&2
fi
if [ "$redis_port" != 6380 ]; then
  echo "  WARNING: Redis's TLS port is $redis_port, the redis-tls sidecar connects to 6380 (deploy/k8s/base/redis-tls-sidecar.yaml)" >&2
fi
redis_key=$(az redis list-keys --resource-group "$rg" --name "$redis_name" --query primaryKey -o tsv)
secret atrium-redis-url "redis://:$redis_key@127.0.0.1:6379/0"

storage_key=$(az storage account keys list --resource-group "$rg" --account-name "$storage" --query '[0].value' -o tsv)
secret atrium-storage-key "$storage_key"

secret atrium-oidc-client-secret "$ATRIUM_OIDC_CLIENT_SECRET"
secret atrium-quickbooks-verifier-token "$ATRIUM_QUICKBOOKS_VERIFIER_TOKEN"
secret atrium-pax8-webhook-secret "$ATRIUM_PAX8_WEBHOOK_SECRET"

echo "done: the pods pick the values up when they (re)start"
echo "  (kubectl -n atrium rollout restart deployment/atrium-serve deployment/atrium-worker)"
