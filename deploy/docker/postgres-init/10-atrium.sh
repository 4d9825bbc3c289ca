#!/bin/sh
# Runs once, when the PostgreSQL container initialises an empty data volume
# (docker-entrypoint-initdb.d): the non-superuser role "atrium" (so
# row-level security applies to it) owning the five service databases, as
# scripts/lib.sh does for the local cluster.
set -eu
: "${ATRIUM_DB_PASSWORD:?set ATRIUM_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     --set=pw="$ATRIUM_DB_PASSWORD" <<'SQL'
CREATE ROLE atrium LOGIN PASSWORD :'pw'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE auth_db OWNER atrium;
CREATE DATABASE portal_db OWNER atrium;
CREATE DATABASE betting_db OWNER atrium;
CREATE DATABASE billing_db OWNER atrium;
CREATE DATABASE catalog_db OWNER atrium;
SQL

for db in auth_db portal_db betting_db billing_db catalog_db; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$db" \
       -c 'CREATE EXTENSION IF NOT EXISTS pgcrypto'
done
