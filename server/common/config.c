/*
 * config.c - ATRIUM_* environment variables into `cfg`.
 */
#include "server/common/config.h"
#include "server/common/secretbox.h"
#include "server/common/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct config cfg;

static char *env_str(const char *name, const char *def)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0')
		return def ? xstrdup(def) : NULL;
	return xstrdup(v);
}

/* THE parser of integer settings: unset or empty is the default; anything
 * else must be a whole decimal number in [min, max], or the variable is
 * named with what it accepts and config_load() fails. */
static bool env_ll(const char *name, long long def, long long min, long long max, long long *out)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0') {
		*out = def;
		return true;
	}
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	bool digits = (*v >= '0' && *v <= '9') || (*v == '-' && v[1] >= '0' && v[1] <= '9');
	if (!digits || errno || *end != '\0' || n < min || n > max) {
		fprintf(stderr, "atrium: %s must be an integer in [%lld, %lld], got '%s'\n", name, min, max,
			v);
		return false;
	}
	*out = n;
	return true;
}

static bool env_int(const char *name, int def, int min, int max, int *out)
{
	long long n;
	if (!env_ll(name, def, min, max, &n))
		return false;
	*out = (int)n;
	return true;
}

/* Booleans are 0 or 1; unset or empty is the default. */
static bool env_bool(const char *name, bool def, bool *out)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0') {
		*out = def;
		return true;
	}
	if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
		fprintf(stderr, "atrium: %s must be 0 or 1, got '%s'\n", name, v);
		return false;
	}
	*out = v[0] == '1';
	return true;
}

/* A plain SQL identifier: it is spliced into statements unquoted. */
static bool is_identifier(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* scheme://host[:port]: it is the CSRF Origin and the base of problem
 * types, and is written into JSON and HTML unescaped. */
static bool is_origin(const char *s)
{
	const char *rest = strncmp(s, "https://", 8) == 0 ? s + 8 : strncmp(s, "http://", 7) == 0 ? s + 7 : NULL;
	if (rest == NULL || *rest == '\0' || strlen(s) > 255)
		return false;
	for (; *rest; rest++)
		if (!((*rest >= 'a' && *rest <= 'z') || (*rest >= 'A' && *rest <= 'Z') ||
		      (*rest >= '0' && *rest <= '9') || strchr(".-:[]", *rest)))
			return false;
	return true;
}

int config_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static bool parse_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		goto bad;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		goto bad;
	cfg.listen_host = xstrndup(s, (size_t)(colon - s));
	cfg.listen_port = (unsigned short)port;
	return true;
bad:
	fprintf(stderr, "atrium: ATRIUM_LISTEN must be host:port, got '%s'\n", s);
	return false;
}

/* Splits s at "/" into at most n segments (copies into buf). */
static int split_path(const char *s, char *buf, size_t bufsz, char **seg, int n)
{
	if (s[0] != '/' || strlen(s) >= bufsz)
		return -1;
	snprintf(buf, bufsz, "%s", s + 1);
	int k = 0;
	for (char *p = buf; k < n;) {
		seg[k++] = p;
		char *slash = strchr(p, '/');
		if (slash == NULL)
			return k;
		*slash = '\0';
		p = slash + 1;
	}
	return n + 1; /* too many */
}

static bool segment_ok(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);
	if (n < 1 || n > max || (dots && s[n - 1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '-' || c == '_' || (dots && (c == '.' || c == '(' || c == ')'));
		if (!ok)
			return false;
	}
	return true;
}

bool config_is_aks_cluster_id(const char *s)
{
	char buf[512];
	char *seg[9];
	if (s == NULL || split_path(s, buf, sizeof(buf), seg, 8) != 8)
		return false;
	return strcasecmp(seg[0], "subscriptions") == 0 && util_is_uuid(seg[1]) &&
	       strcasecmp(seg[2], "resourceGroups") == 0 && segment_ok(seg[3], 90, true) &&
	       strcasecmp(seg[4], "providers") == 0 &&
	       strcasecmp(seg[5], "Microsoft.ContainerService") == 0 &&
	       strcasecmp(seg[6], "managedClusters") == 0 && segment_ok(seg[7], 63, false);
}

bool config_load(void)
{
	bool ok = true;
	char *listen = env_str("ATRIUM_LISTEN", "127.0.0.1:8443");
	ok &= parse_listen(listen);
	free(listen);

	cfg.tls_cert = env_str("ATRIUM_TLS_CERT", NULL);
	cfg.tls_key = env_str("ATRIUM_TLS_KEY", NULL);
	if ((cfg.tls_cert == NULL) != (cfg.tls_key == NULL)) {
		fprintf(stderr, "atrium: set both ATRIUM_TLS_CERT and ATRIUM_TLS_KEY, or neither\n");
		ok = false;
	}
	cfg.db_url[0] = env_str("ATRIUM_DB_AUTH_URL", "postgresql:///auth_db");
	cfg.db_url[1] = env_str("ATRIUM_DB_PORTAL_URL", "postgresql:///portal_db");
	cfg.db_url[2] = env_str("ATRIUM_DB_BETTING_URL", "postgresql:///betting_db");
	cfg.db_url[3] = env_str("ATRIUM_DB_BILLING_URL", "postgresql:///billing_db");
	cfg.db_url[4] = env_str("ATRIUM_DB_CATALOG_URL", "postgresql:///catalog_db");
	cfg.redis_url = env_str("ATRIUM_REDIS_URL", "redis://127.0.0.1:6379/0");
	cfg.redis_prefix = env_str("ATRIUM_REDIS_PREFIX", "atrium:");
	cfg.oidc_metadata_url = env_str("ATRIUM_OIDC_METADATA_URL",
		"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration");
	cfg.oidc_v1_issuer = env_str("ATRIUM_OIDC_V1_ISSUER", "https://sts.windows.net/{tenantid}/");

	char *aud = env_str("ATRIUM_OIDC_AUDIENCE", NULL);
	if (aud) {
		char *save = NULL;
		for (char *t = strtok_r(aud, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			while (*t == ' ')
				t++;
			if (*t == '\0')
				continue;
			if (cfg.n_audiences == CFG_MAX_AUDIENCES) {
				fprintf(stderr, "atrium: at most %d audiences\n", CFG_MAX_AUDIENCES);
				ok = false;
				break;
			}
			cfg.audiences[cfg.n_audiences++] = xstrdup(t);
		}
		free(aud);
	}
	cfg.oidc_client_id = env_str("ATRIUM_OIDC_CLIENT_ID", NULL);
	cfg.oidc_client_secret = env_str("ATRIUM_OIDC_CLIENT_SECRET", NULL);
	/* The client id is itself an accepted audience (v2 tokens carry it). */
	if (cfg.oidc_client_id && cfg.n_audiences < CFG_MAX_AUDIENCES)
		cfg.audiences[cfg.n_audiences++] = xstrdup(cfg.oidc_client_id);
	cfg.home_tenant_id = env_str("ATRIUM_HOME_TENANT_ID", NULL);
	if (cfg.home_tenant_id && !util_is_uuid(cfg.home_tenant_id)) {
		fprintf(stderr, "atrium: ATRIUM_HOME_TENANT_ID must be a UUID\n");
		ok = false;
	}

	int ncpu = config_ncpu();
	ok &= env_int("ATRIUM_JWKS_REFRESH_SECONDS", 3600, 60, 86400, &cfg.jwks_refresh_s);
	ok &= env_int("ATRIUM_JWKS_MIN_REFRESH_SECONDS", 300, 0, 86400, &cfg.jwks_min_refresh_s);
	ok &= env_int("ATRIUM_CLOCK_SKEW_SECONDS", 60, 0, 300, &cfg.clock_skew_s);
	ok &= env_int("ATRIUM_AUTH_CACHE_SECONDS", 5, 0, 3600, &cfg.auth_cache_ttl_s);
	ok &= env_int("ATRIUM_THREADS", ncpu * 4, 1, 256, &cfg.threads);
	ok &= env_int("ATRIUM_DB_POOL_SIZE", 0, 0, 256, &cfg.db_pool_size);
	if (cfg.db_pool_size == 0)
		cfg.db_pool_size = cfg.threads;
	/* A quarter of a pool (at least one) by default: the rest stay free
	 * for requests while slow clients download exports. */
	ok &= env_int("ATRIUM_EXPORTS_MAX", 0, 0, 256, &cfg.db_streams);
	if (cfg.db_streams == 0)
		cfg.db_streams = cfg.db_pool_size / 4 > 0 ? cfg.db_pool_size / 4 : 1;
	if (cfg.db_streams > cfg.db_pool_size)
		cfg.db_streams = cfg.db_pool_size;
	ok &= env_int("ATRIUM_MAX_CONNECTIONS", 1024, 1, 65535, &cfg.max_connections);
	ok &= env_int("ATRIUM_MAX_CONNECTIONS_PER_IP", 256, 0, 65535, &cfg.per_ip_connections);
	ok &= env_int("ATRIUM_CONNECTION_TIMEOUT_SECONDS", 30, 1, 3600, &cfg.connection_timeout_s);
	ok &= env_int("ATRIUM_DRAIN_SECONDS", 20, 0, 600, &cfg.drain_s);
	int body_kib = 1024;
	ok &= env_int("ATRIUM_MAX_BODY_KIB", 1024, 1, 65536, &body_kib);
	cfg.max_body_bytes = (size_t)body_kib * 1024;
	int webhook_kib = 256;
	ok &= env_int("ATRIUM_WEBHOOK_MAX_BODY_KIB", 256, 1, 65536, &webhook_kib);
	cfg.webhook_max_body_bytes = (size_t)webhook_kib * 1024;
	ok &= env_int("ATRIUM_RATE_LIMIT_TENANT_PER_MINUTE", 6000, 0, INT_MAX, &cfg.rate_limit_tenant);
	ok &= env_int("ATRIUM_RATE_LIMIT_IP_PER_MINUTE", 3000, 0, INT_MAX, &cfg.rate_limit_ip);
	ok &= env_int("ATRIUM_NAMESPACES_PER_TENANT", 10, 0, 100000, &cfg.namespaces_per_tenant);
	ok &= env_int("ATRIUM_LOGIN_RATE_PER_MINUTE", 30, 0, INT_MAX, &cfg.login_rate_ip);
	/* No payment provider stands behind deposits yet: caps bound what a
	 * member can credit itself (defaults: 10 000.00 and 50 000.00). */
	ok &= env_ll("ATRIUM_DEPOSIT_MAX_MINOR", 1000000, 1, 1000000000000000LL, &cfg.deposit_max_minor);
	ok &= env_ll("ATRIUM_DEPOSIT_DAILY_MAX_MINOR", 5000000, 1, 1000000000000000LL,
		     &cfg.deposit_daily_max_minor);
	cfg.web_dir = env_str("ATRIUM_WEB_DIR", "web/dist");
	cfg.public_url = env_str("ATRIUM_PUBLIC_URL", "https://localhost:8443");
	/* "https://host/" names the same origin: the slash is dropped. */
	for (size_t n = strlen(cfg.public_url); n > 0 && cfg.public_url[n - 1] == '/'; n--)
		cfg.public_url[n - 1] = '\0';
	if (!is_origin(cfg.public_url)) {
		fprintf(stderr, "atrium: ATRIUM_PUBLIC_URL must be an origin (https://host[:port], no path; at most 255 characters), "
				"got '%s'\n", cfg.public_url);
		ok = false;
	}
	cfg.trusted_proxies = env_str("ATRIUM_TRUSTED_PROXIES", NULL);
	ok &= env_int("ATRIUM_SESSION_IDLE_SECONDS", 1800, 60, 86400 * 7, &cfg.session_idle_s);
	ok &= env_int("ATRIUM_SESSION_MAX_SECONDS", 43200, 300, 86400 * 30, &cfg.session_max_s);
	cfg.openapi_path = env_str("ATRIUM_OPENAPI_PATH", "openapi/openapi.yaml");
	cfg.problems_path = env_str("ATRIUM_PROBLEMS_PATH", "docs/PROBLEMS.md");
	cfg.log_level = env_str("ATRIUM_LOG_LEVEL", "info");

	/* The worker's Entra credential. AKS workload identity injects
	 * AZURE_FEDERATED_TOKEN_FILE with AZURE_CLIENT_ID, AZURE_TENANT_ID and
	 * AZURE_AUTHORITY_HOST: those are the defaults of the ATRIUM_AZURE_*
	 * settings, which win when set. */
	{
		const char *host = getenv("AZURE_AUTHORITY_HOST");
		cfg.azure_authority = env_str("ATRIUM_AZURE_AUTHORITY",
					      host && *host ? host : "https://login.microsoftonline.com");
	}
	cfg.azure_tenant_id = env_str("ATRIUM_AZURE_TENANT_ID", getenv("AZURE_TENANT_ID"));
	cfg.azure_client_id = env_str("ATRIUM_AZURE_CLIENT_ID", getenv("AZURE_CLIENT_ID"));
	if (cfg.azure_tenant_id && *cfg.azure_tenant_id == '\0') {
		free(cfg.azure_tenant_id);
		cfg.azure_tenant_id = NULL;
	}
	if (cfg.azure_client_id && *cfg.azure_client_id == '\0') {
		free(cfg.azure_client_id);
		cfg.azure_client_id = NULL;
	}
	cfg.azure_client_secret = env_str("ATRIUM_AZURE_CLIENT_SECRET", NULL);
	cfg.azure_client_certificate = env_str("ATRIUM_AZURE_CLIENT_CERTIFICATE", NULL);
	cfg.azure_federated_token_file = env_str("AZURE_FEDERATED_TOKEN_FILE", NULL);
	cfg.arm_url = env_str("ATRIUM_ARM_URL", "https://management.azure.com");
	cfg.azure_subscription_id = env_str("ATRIUM_AZURE_SUBSCRIPTION_ID", NULL);
	cfg.aks_cluster_id = env_str("ATRIUM_AKS_CLUSTER_ID", NULL);
	if (cfg.aks_cluster_id && *cfg.aks_cluster_id == '\0') {
		free(cfg.aks_cluster_id);
		cfg.aks_cluster_id = NULL;
	}
	if (cfg.aks_cluster_id && !config_is_aks_cluster_id(cfg.aks_cluster_id)) {
		fprintf(stderr, "atrium: ATRIUM_AKS_CLUSTER_ID must be a managed cluster's ARM id: "
				"/subscriptions/<uuid>/resourceGroups/<group>/providers/"
				"Microsoft.ContainerService/managedClusters/<name>\n");
		ok = false;
	}
	cfg.storage_blob_url = env_str("ATRIUM_STORAGE_BLOB_URL", NULL);
	cfg.storage_account = env_str("ATRIUM_STORAGE_ACCOUNT", NULL);
	cfg.storage_key = env_str("ATRIUM_STORAGE_KEY", NULL);
	cfg.storage_cors_origins = env_str("ATRIUM_STORAGE_CORS_ORIGINS", NULL);
	cfg.quickbooks_verifier_token = env_str("ATRIUM_QUICKBOOKS_VERIFIER_TOKEN", NULL);
	cfg.pax8_webhook_secret = env_str("ATRIUM_PAX8_WEBHOOK_SECRET", NULL);
	cfg.pax8_client_id = env_str("ATRIUM_PAX8_CLIENT_ID", NULL);
	cfg.pax8_client_secret = env_str("ATRIUM_PAX8_CLIENT_SECRET", NULL);
	cfg.pax8_api_url = env_str("ATRIUM_PAX8_API_URL", "https://api.pax8.com/v1");
	cfg.pax8_token_url = env_str("ATRIUM_PAX8_TOKEN_URL", "https://login.pax8.com/oauth/token");
	ok &= env_int("ATRIUM_PAX8_SYNC_SECONDS", 3600, 1, 86400 * 7, &cfg.pax8_sync_s);
	/* QuickBooks Online: Intuit's production endpoints unless told otherwise. */
	cfg.quickbooks_client_id = env_str("ATRIUM_QUICKBOOKS_CLIENT_ID", NULL);
	cfg.quickbooks_client_secret = env_str("ATRIUM_QUICKBOOKS_CLIENT_SECRET", NULL);
	cfg.quickbooks_auth_url = env_str("ATRIUM_QUICKBOOKS_AUTH_URL", "https://appcenter.intuit.com/connect/oauth2");
	cfg.quickbooks_token_url = env_str("ATRIUM_QUICKBOOKS_TOKEN_URL",
					   "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer");
	cfg.quickbooks_revoke_url = env_str("ATRIUM_QUICKBOOKS_REVOKE_URL",
					    "https://developer.api.intuit.com/v2/oauth2/tokens/revoke");
	cfg.quickbooks_api_url = env_str("ATRIUM_QUICKBOOKS_API_URL", "https://quickbooks.api.intuit.com");
	for (size_t n = strlen(cfg.quickbooks_api_url); n > 0 && cfg.quickbooks_api_url[n - 1] == '/'; n--)
		cfg.quickbooks_api_url[n - 1] = '\0';
	{
		char def[512];
		snprintf(def, sizeof(def), "%s/v1/integrations/quickbooks/callback", cfg.public_url);
		cfg.quickbooks_redirect_uri = env_str("ATRIUM_QUICKBOOKS_REDIRECT_URI", def);
	}
	ok &= env_int("ATRIUM_QUICKBOOKS_CDC_SECONDS", 86400, 1, 86400 * 30, &cfg.quickbooks_cdc_s);
	ok &= env_int("ATRIUM_QUICKBOOKS_TICK_SECONDS", 60, 1, 86400, &cfg.quickbooks_tick_s);
	ok &= env_int("ATRIUM_QUICKBOOKS_REFRESH_MARGIN_SECONDS", 300, 0, 3000, &cfg.quickbooks_refresh_margin_s);
	ok &= env_int("ATRIUM_QUICKBOOKS_STATE_SECONDS", 600, 10, 3600, &cfg.quickbooks_state_ttl_s);
	{
		char err[256];
		if (!secretbox_load(getenv("ATRIUM_SECRETS_KEY"), err, sizeof(err))) {
			fprintf(stderr, "atrium: ATRIUM_SECRETS_KEY is invalid (%s); it must be one or more "
					"keyid:base64(32 random bytes) entries, comma-separated, the first encrypting\n",
				err);
			ok = false;
		} else if (cfg.quickbooks_client_id && *cfg.quickbooks_client_id && !secretbox_ready()) {
			fprintf(stderr, "atrium: ATRIUM_QUICKBOOKS_CLIENT_ID is set but ATRIUM_SECRETS_KEY is not: "
					"QuickBooks tokens are only stored encrypted\n");
			ok = false;
		}
	}
	cfg.arm_scope = env_str("ATRIUM_ARM_SCOPE", "https://management.azure.com/.default");
	ok &= env_int("ATRIUM_OUTBOUND_TIMEOUT_MS", 30000, 100, 600000, &cfg.outbound_timeout_ms);
	ok &= env_int("ATRIUM_OUTBOUND_CONNECT_TIMEOUT_MS", 5000, 100, 60000,
		      &cfg.outbound_connect_timeout_ms);
	ok &= env_int("ATRIUM_ARM_LRO_TIMEOUT_SECONDS", 900, 1, 86400, &cfg.arm_lro_timeout_s);
	ok &= env_int("ATRIUM_ARM_POLL_INTERVAL_MS", 5000, 10, 600000, &cfg.arm_poll_interval_ms);
	cfg.worker_metrics_listen = env_str("ATRIUM_WORKER_METRICS_LISTEN", NULL);
	cfg.otlp_endpoint = env_str("ATRIUM_OTLP_ENDPOINT", NULL);
	if (cfg.otlp_endpoint && *cfg.otlp_endpoint == '\0') {
		free(cfg.otlp_endpoint);
		cfg.otlp_endpoint = NULL;
	}
	if (cfg.otlp_endpoint && strncmp(cfg.otlp_endpoint, "http://", 7) != 0 &&
	    strncmp(cfg.otlp_endpoint, "https://", 8) != 0) {
		fprintf(stderr, "atrium: ATRIUM_OTLP_ENDPOINT must be an http:// or https:// URL, got '%s'\n",
			cfg.otlp_endpoint);
		ok = false;
	}

	/* The worker's settings (defaults as the README lists them). */
	ok &= env_int("ATRIUM_WORKER_CONCURRENCY", 2, 1, 63, &cfg.worker_concurrency);
	ok &= env_int("ATRIUM_JOB_LEASE_SECONDS", 30, 1, 86400, &cfg.job_lease_s);
	ok &= env_int("ATRIUM_JOB_BACKOFF_BASE_MS", 2000, 1, 86400000, &cfg.job_backoff_base_ms);
	ok &= env_int("ATRIUM_JOB_BACKOFF_CAP_MS", 300000, 1, 86400000, &cfg.job_backoff_cap_ms);
	ok &= env_int("ATRIUM_WORKER_POLL_MS", 1000, 10, 600000, &cfg.worker_poll_ms);
	ok &= env_int("ATRIUM_BET_PENDING_TIMEOUT_SECONDS", 30, 1, 86400, &cfg.bet_pending_timeout_s);
	ok &= env_int("ATRIUM_RECONCILE_INTERVAL_SECONDS", 60, 1, 86400, &cfg.reconcile_interval_s);
	ok &= env_int("ATRIUM_NAMESPACE_RECONCILE_SECONDS", 600, 1, 86400 * 7,
		      &cfg.namespace_reconcile_s);
	ok &= env_int("ATRIUM_IDEMPOTENCY_RETENTION_HOURS", 48, 24, 24 * 366,
		      &cfg.idempotency_retention_h);
	ok &= env_int("ATRIUM_PURGE_INTERVAL_SECONDS", 3600, 60, 86400 * 7, &cfg.purge_interval_s);
	ok &= env_int("ATRIUM_WEBHOOK_SWEEP_SECONDS", 15, 1, 86400, &cfg.webhook_sweep_s);
	ok &= env_int("ATRIUM_WEBHOOK_SWEEP_AGE_SECONDS", 30, 0, 86400, &cfg.webhook_sweep_age_s);
	ok &= env_bool("ATRIUM_ALLOW_BYPASSRLS", false, &cfg.allow_bypassrls);
	{
		/* session: PostgreSQL itself or a session-mode pooler; transaction:
		 * PgBouncer in transaction mode (see db.c). */
		const char *m = getenv("ATRIUM_DB_POOL_MODE");
		if (m == NULL || *m == '\0' || strcmp(m, "session") == 0) {
			cfg.db_pool_transaction = false;
		} else if (strcmp(m, "transaction") == 0) {
			cfg.db_pool_transaction = true;
		} else {
			fprintf(stderr, "atrium: ATRIUM_DB_POOL_MODE must be session or transaction, got '%s'\n", m);
			ok = false;
		}
	}

	cfg.migrations_dir = env_str("ATRIUM_MIGRATIONS_DIR", "db/migrations");
	cfg.migrations_table = env_str("ATRIUM_MIGRATIONS_TABLE", "schema_migrations");
	if (!is_identifier(cfg.migrations_table)) {
		fprintf(stderr, "atrium: ATRIUM_MIGRATIONS_TABLE must be a lower-case SQL identifier "
				"([a-z_][a-z0-9_]*, at most 63 characters), got '%s'\n",
			cfg.migrations_table);
		ok = false;
	}
	ok &= env_bool("ATRIUM_MIGRATE_ACCEPT_CHANGED", false, &cfg.migrate_accept_changed);
	ok &= env_int("ATRIUM_MIGRATE_LOCK_TIMEOUT_MS", 10000, 0, 3600000, &cfg.migrate_lock_timeout_ms);
	ok &= env_int("ATRIUM_MIGRATE_STATEMENT_TIMEOUT_MS", 0, 0, 86400000,
		      &cfg.migrate_statement_timeout_ms);
	return ok;
}

void config_free(void)
{
	char **strs[] = {
		&cfg.listen_host, &cfg.tls_cert, &cfg.tls_key, &cfg.db_url[0], &cfg.db_url[1],
		&cfg.db_url[2], &cfg.db_url[3], &cfg.db_url[4], &cfg.redis_url, &cfg.redis_prefix, &cfg.oidc_metadata_url,
		&cfg.oidc_v1_issuer, &cfg.oidc_client_id, &cfg.oidc_client_secret,
		&cfg.home_tenant_id, &cfg.web_dir, &cfg.public_url, &cfg.trusted_proxies, &cfg.openapi_path, &cfg.problems_path, &cfg.log_level,
		&cfg.azure_authority, &cfg.azure_tenant_id, &cfg.azure_client_id,
		&cfg.azure_client_secret, &cfg.azure_client_certificate,
		&cfg.azure_federated_token_file, &cfg.arm_url, &cfg.azure_subscription_id, &cfg.aks_cluster_id,
		&cfg.storage_blob_url, &cfg.storage_account, &cfg.storage_key, &cfg.storage_cors_origins,
		&cfg.quickbooks_verifier_token, &cfg.pax8_webhook_secret,
		&cfg.pax8_client_id, &cfg.pax8_client_secret, &cfg.pax8_api_url, &cfg.pax8_token_url,
		&cfg.quickbooks_client_id, &cfg.quickbooks_client_secret, &cfg.quickbooks_auth_url,
		&cfg.quickbooks_token_url, &cfg.quickbooks_revoke_url, &cfg.quickbooks_api_url,
		&cfg.quickbooks_redirect_uri,
		&cfg.arm_scope, &cfg.worker_metrics_listen, &cfg.otlp_endpoint, &cfg.migrations_dir, &cfg.migrations_table,
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	for (int i = 0; i < cfg.n_audiences; i++)
		free(cfg.audiences[i]);
	cfg.n_audiences = 0;
}
