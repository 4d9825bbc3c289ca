/*
 * check.c - `atrium check`.
 *
 * One line per check: "ok", "FAIL" or "skip", what was checked, and what
 * was found (never a secret). The configuration itself was parsed by
 * config_load() before we run: a malformed setting never gets this far.
 */
#include "server/check.h"
#include "server/auth/jwks.h"
#include "server/common/config.h"
#include "server/common/secretbox.h"
#include "server/common/util.h"
#include "server/outbound/azure_token.h"
#include "server/outbound/outbound.h"
#include "server/store/db.h"
#include "server/store/migrate.h"
#include "server/store/redis.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct report {
	FILE *out;
	int ok, failed, skipped;
};

static void line(struct report *rep, const char *verdict, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void line(struct report *rep, const char *verdict, const char *what, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	fprintf(rep->out, "  %-5s %-22s %s\n", verdict, what, detail);
	if (strcmp(verdict, "ok") == 0)
		rep->ok++;
	else if (strcmp(verdict, "FAIL") == 0)
		rep->failed++;
	else
		rep->skipped++;
}

/* ---- TLS ---------------------------------------------------------------- */

static void check_tls(struct report *rep)
{
	if (cfg.tls_cert == NULL && cfg.tls_key == NULL) {
		line(rep, "skip", "tls", "no ATRIUM_TLS_CERT/KEY: plain HTTP, for behind a TLS-terminating ingress");
		return;
	}
	FILE *f = fopen(cfg.tls_cert, "r");
	X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	f = fopen(cfg.tls_key, "r");
	EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (cert == NULL)
		line(rep, "FAIL", "tls", "%s: not a readable PEM certificate", cfg.tls_cert);
	else if (key == NULL)
		line(rep, "FAIL", "tls", "%s: not a readable PEM private key", cfg.tls_key);
	else if (X509_check_private_key(cert, key) != 1)
		line(rep, "FAIL", "tls", "the key in %s does not match the certificate in %s", cfg.tls_key,
		     cfg.tls_cert);
	else {
		int days = 0, secs = 0;
		ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert));
		char subject[256];
		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
		if (days < 0 || (days == 0 && secs <= 0))
			line(rep, "FAIL", "tls", "%s (%s) has expired", cfg.tls_cert, subject);
		else
			line(rep, days < 14 ? "FAIL" : "ok", "tls", "%s (%s): expires in %d days%s",
			     cfg.tls_cert, subject, days, days < 14 ? ", renew it" : "");
	}
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* ---- databases ---------------------------------------------------------- */

static void check_databases(struct report *rep)
{
	for (int s = 0; s < DB_SERVICE_COUNT; s++) {
		enum db_service svc = (enum db_service)s;
		const char *name = db_service_name(svc);
		PGconn *pg = db_connect_raw(svc);
		if (pg == NULL) {
			line(rep, "FAIL", name, "cannot connect (ATRIUM_DB_%s_URL; the log line above says why)",
			     s == DB_AUTH ? "AUTH" : s == DB_PORTAL ? "PORTAL" : s == DB_BETTING ? "BETTING"
					: s == DB_BILLING ? "BILLING" : "CATALOG");
			continue;
		}
		int bypass = db_role_bypasses_rls(pg);
		const char *server = PQparameterStatus(pg, "server_version");
		if (bypass < 0)
			line(rep, "FAIL", name, "connected, but cannot read whether role %s bypasses row-level security",
			     PQuser(pg));
		else if (bypass && !cfg.allow_bypassrls)
			line(rep, "FAIL", name, "role %s is a superuser or has BYPASSRLS: tenant isolation would be off",
			     PQuser(pg));
		else
			line(rep, "ok", name, "PostgreSQL %s at %s:%s as %s%s", server ? server : "?", PQhost(pg),
			     PQport(pg), PQuser(pg),
			     bypass ? " (bypasses RLS: ATRIUM_ALLOW_BYPASSRLS=1)" : ", row-level security applies");
		PQfinish(pg);
	}
}

/* Counts the states `migrate status` prints ("  pending  0002_x  …"). */
static void check_migrations(struct report *rep)
{
	if (cfg.db_pool_transaction) {
		line(rep, "skip", "migrations", "ATRIUM_DB_POOL_MODE=transaction: migrate runs on direct URLs");
		return;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct migrate_opts o = {.dir = cfg.migrations_dir, .table = cfg.migrations_table,
				 .mode = MIGRATE_STATUS, .out = mem};
	int rc = migrate_run(&o);
	fclose(mem);
	int applied = 0, pending = 0, changed = 0, missing = 0;
	for (char *p = buf; p && *p;) {
		char *nl = strchr(p, '\n');
		if (strncmp(p, "  applied ", 10) == 0)
			applied++;
		else if (strncmp(p, "  pending ", 10) == 0)
			pending++;
		else if (strncmp(p, "  changed ", 10) == 0)
			changed++;
		else if (strncmp(p, "  missing ", 10) == 0)
			missing++;
		p = nl ? nl + 1 : p + strlen(p);
	}
	free(buf);
	bool ok = rc == 0 && pending == 0;
	line(rep, ok ? "ok" : "FAIL", "migrations",
	     "%d applied, %d pending, %d changed since applied, %d missing on disk%s", applied, pending,
	     changed, missing,
	     ok ? "" : rc != 0 && applied + pending + changed + missing == 0
		       ? " (a database could not be read)"
		       : " (atrium migrate status for each file)");
}

/* ---- Redis and the identity provider ------------------------------------ */

static void check_redis(struct report *rep)
{
	if (!redis_start()) {
		line(rep, "FAIL", "redis", "ATRIUM_REDIS_URL is unusable");
		return;
	}
	if (redis_ping())
		line(rep, "ok", "redis", "PING answered");
	else
		line(rep, "FAIL", "redis",
		     "no answer (serve would run degraded: bearer calls served, rate limits open, cookie sessions 503)");
	redis_stop();
}

static void check_identity_provider(struct report *rep)
{
	jwks_start(); /* the first fetch is synchronous */
	char issuer[2048];
	if (jwks_issuer_for("00000000-0000-0000-0000-000000000000", issuer, sizeof(issuer)))
		line(rep, "ok", "identity provider", "%s: discovery document and signing keys loaded",
		     cfg.oidc_metadata_url);
	else
		line(rep, "FAIL", "identity provider",
		     "%s: discovery document or signing keys not loaded (every token would be refused)",
		     cfg.oidc_metadata_url);
	jwks_stop();
	if (cfg.n_audiences == 0)
		line(rep, "FAIL", "token audience", "ATRIUM_OIDC_AUDIENCE is empty: every token would be refused");
	else
		line(rep, "ok", "token audience", "%d accepted audience(s)", cfg.n_audiences);
}

/* ---- the worker's Azure ------------------------------------------------- */

bool check_worker_settings(FILE *err)
{
	struct {
		const char *name;
		bool set;
	} need[] = {
		{"ATRIUM_AZURE_TENANT_ID (or AZURE_TENANT_ID)", cfg.azure_tenant_id != NULL},
		{"ATRIUM_AZURE_CLIENT_ID (or AZURE_CLIENT_ID)", cfg.azure_client_id != NULL},
		{"a credential: AZURE_FEDERATED_TOKEN_FILE, ATRIUM_AZURE_CLIENT_CERTIFICATE or "
		 "ATRIUM_AZURE_CLIENT_SECRET",
		 azure_token_credential() != AZURE_CRED_NONE},
		{"ATRIUM_AZURE_SUBSCRIPTION_ID", cfg.azure_subscription_id != NULL},
		{"ATRIUM_STORAGE_BLOB_URL", cfg.storage_blob_url != NULL},
		{"ATRIUM_STORAGE_ACCOUNT", cfg.storage_account != NULL},
		{"ATRIUM_STORAGE_KEY", cfg.storage_key != NULL},
	};
	bool ok = true;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!need[i].set) {
			if (err)
				fprintf(err, "atrium worker: %s is not set (namespace provisioning needs it)\n",
					need[i].name);
			ok = false;
		}
	return ok;
}

static void check_azure(struct report *rep)
{
	char *missing = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&missing, &len);
	bool complete = check_worker_settings(mem);
	fclose(mem);
	if (!complete) {
		for (char *p = missing; p && *p;) {
			char *nl = strchr(p, '\n');
			if (nl)
				*nl = '\0';
			line(rep, "FAIL", "worker settings", "%s", p + strlen("atrium worker: "));
			p = nl ? nl + 1 : p + strlen(p);
		}
		free(missing);
		return;
	}
	free(missing);
	line(rep, "ok", "worker settings", "Azure tenant, client, subscription and storage set");

	char *token = NULL;
	struct outbound_result err = {0};
	if (azure_token_get(&token, &err))
		line(rep, "ok", "azure credential", "%s: a token for %s was issued",
		     azure_credential_name(azure_token_credential()), cfg.arm_scope);
	else
		line(rep, "FAIL", "azure credential", "%s: no token (%s%s%s)",
		     azure_credential_name(azure_token_credential()), err.code,
		     err.message[0] ? ": " : "", err.message);
	free(token);
	outbound_result_clear(&err);
	azure_token_reset();

	/* Reachability only: an unsigned request, any HTTP answer will do. */
	struct outbound_request req = {.target = OUT_BLOB, .method = "GET", .url = cfg.storage_blob_url,
				       .timeout_ms = 5000};
	struct outbound_response resp;
	if (outbound_perform(&req, &resp))
		line(rep, "ok", "blob storage", "%s answers (HTTP %ld)", cfg.storage_blob_url, resp.status);
	else
		line(rep, "FAIL", "blob storage", "%s: %s", cfg.storage_blob_url, resp.error);
	outbound_response_free(&resp);
}

/* ---- secrets at rest and QuickBooks (issue 15) ------------------------------ */

static void check_secrets(struct report *rep)
{
	bool qbo = cfg.quickbooks_client_id && *cfg.quickbooks_client_id;
	if (!secretbox_ready()) {
		line(rep, "skip", "secrets key", "ATRIUM_SECRETS_KEY unset (QuickBooks cannot be connected)");
		return;
	}
	char *sealed = secretbox_seal("atrium.check", "probe");
	char *opened = sealed ? secretbox_open("atrium.check", sealed, NULL) : NULL;
	bool ok = opened && strcmp(opened, "probe") == 0;
	line(rep, ok ? "ok" : "FAIL", "secrets key", "%d key(s); new secrets sealed with '%s'%s",
	     secretbox_key_count(), secretbox_sealing_key_id(), ok ? "" : ": a seal/open round trip failed");
	secretbox_free(opened);
	free(sealed);
	if (qbo)
		line(rep, cfg.quickbooks_client_secret && *cfg.quickbooks_client_secret ? "ok" : "FAIL", "quickbooks",
		     "client %s, API %s", cfg.quickbooks_client_secret && *cfg.quickbooks_client_secret
						? "and secret set" : "set but ATRIUM_QUICKBOOKS_CLIENT_SECRET is not",
		     cfg.quickbooks_api_url);
}

int check_run(unsigned scope, FILE *out)
{
	struct report rep = {.out = out};
	fprintf(out, "atrium check (%s%s%s):\n", scope & CHECK_SERVE ? "serve" : "",
		scope == (CHECK_SERVE | CHECK_WORKER) ? " and " : "", scope & CHECK_WORKER ? "worker" : "");
	line(&rep, "ok", "configuration", "every ATRIUM_* setting parsed");
	check_databases(&rep);
	check_migrations(&rep);
	check_secrets(&rep);
	if (scope & CHECK_SERVE) {
		check_tls(&rep);
		check_redis(&rep);
		check_identity_provider(&rep);
	}
	if (scope & CHECK_WORKER)
		check_azure(&rep);
	fprintf(out, "%d ok, %d failed, %d skipped\n", rep.ok, rep.failed, rep.skipped);
	return rep.failed ? 1 : 0;
}
