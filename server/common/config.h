/*
 * config.h - the process configuration, read once from ATRIUM_* environment
 * variables (12-factor). Every variable and its default is listed in the
 * README; config_load() is the single place that knows them.
 *
 * The global `cfg` is written by config_load() before any thread starts
 * and is read-only afterwards.
 */
#ifndef ATRIUM_CONFIG_H
#define ATRIUM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CFG_MAX_AUDIENCES 8

struct config {
	char *listen_host;
	unsigned short listen_port;
	char *tls_cert, *tls_key;   /* paths; both NULL means plain HTTP */
	char *db_url[5];            /* indexed by enum db_service */
	char *redis_url;
	char *redis_prefix;         /* namespace for every key, e.g. "atrium:" */
	char *oidc_metadata_url;
	char *oidc_v1_issuer;       /* template with {tenantid} */
	char *audiences[CFG_MAX_AUDIENCES];
	int n_audiences;
	char *oidc_client_id, *oidc_client_secret;
	char *home_tenant_id;
	int jwks_refresh_s;         /* background refresh period */
	int jwks_min_refresh_s;     /* unknown kid: at most one fetch per this */
	int clock_skew_s;
	int auth_cache_ttl_s;
	int threads;
	int db_pool_size;
	int db_streams;    /* ATRIUM_EXPORTS_MAX: streamed exports at once, per pool */
	int max_connections;
	int per_ip_connections;
	int connection_timeout_s;
	int drain_s;                /* SIGTERM: how long in-flight requests may finish */
	size_t max_body_bytes;
	size_t webhook_max_body_bytes; /* raw-body (webhook) routes */
	int rate_limit_tenant;      /* requests per minute per tenant; 0 = off */
	int rate_limit_ip;          /* requests per minute per client address */
	int namespaces_per_tenant;  /* live namespaces a tenant may have */
	int login_rate_ip;          /* sign-ins started per client address per minute */
	long long deposit_max_minor;       /* one deposit, in minor units */
	long long deposit_daily_max_minor; /* a member's deposits per UTC day, per currency */
	char *trusted_proxies;      /* comma-separated IPs/CIDRs whose X-Forwarded-For is believed */
	char *public_url;           /* https://host[:port] the browser uses: redirect URI, Origin */
	int session_idle_s;         /* sliding idle timeout of a portal session */
	int session_max_s;          /* absolute lifetime of a portal session */
	char *web_dir;
	char *openapi_path;
	char *problems_path;         /* the problem catalogue served at /problems */
	char *log_level;
	/* outbound */
	char *azure_authority, *azure_tenant_id, *azure_client_id, *azure_client_secret;
	char *azure_client_certificate;   /* PEM: private key + certificate (assertion) */
	char *azure_federated_token_file; /* AZURE_FEDERATED_TOKEN_FILE (workload identity) */
	char *arm_url, *azure_subscription_id;
	/* ARM id of the shared AKS cluster that hosts the namespaces' Kubernetes
	 * namespaces (ATRIUM_AKS_CLUSTER_ID); NULL: no Kubernetes namespaces. */
	char *aks_cluster_id;
	char *storage_blob_url, *storage_account, *storage_key;
	char *storage_cors_origins;     /* set by the worker on the Blob service; NULL: left alone */
	char *quickbooks_verifier_token, *pax8_webhook_secret;
	/* Pax8 Partner API (server/outbound/pax8.c): client credentials; pulls
	 * are skipped while the id or the secret is unset. */
	char *pax8_client_id, *pax8_client_secret, *pax8_api_url, *pax8_token_url;
	int pax8_sync_s;              /* how often every mapped company is pulled */
	/* QuickBooks Online connection (issue 15; workers/quickbooks_jobs.c) */
	char *quickbooks_client_id, *quickbooks_client_secret;
	char *quickbooks_auth_url, *quickbooks_token_url, *quickbooks_revoke_url, *quickbooks_api_url;
	char *quickbooks_redirect_uri;    /* default: ATRIUM_PUBLIC_URL + the callback path */
	int quickbooks_cdc_s;             /* change data capture per connected tenant */
	int quickbooks_tick_s;            /* how often due refreshes and CDC reads are looked for */
	int quickbooks_refresh_margin_s;  /* access tokens are refreshed this long before expiry */
	int quickbooks_state_ttl_s;       /* lifetime of a connect's OAuth state */
	/* outbound calls of the worker (server/outbound/outbound.c, arm.c) */
	char *arm_scope;              /* token scope for ARM */
	int outbound_timeout_ms;      /* whole exchange */
	int outbound_connect_timeout_ms;
	int arm_lro_timeout_s;        /* how long one step follows an operation */
	int arm_poll_interval_ms;     /* poll interval when Retry-After is absent */
	char *worker_metrics_listen;  /* host:port of the worker's /metrics; NULL = off */
	char *otlp_endpoint;          /* OTLP/HTTP base URL for spans; NULL = off */
	/* the worker: job runtime (server/jobs/jobs.c) and job kinds (workers/) */
	int worker_concurrency;       /* runner threads */
	int job_lease_s;              /* a claimed job's lease, renewed every third */
	int job_backoff_base_ms, job_backoff_cap_ms;
	int worker_poll_ms;           /* backstop poll when no NOTIFY arrives */
	int bet_pending_timeout_s;    /* reconciliation resolves pending bets this old */
	int reconcile_interval_s;
	int namespace_reconcile_s;  /* how often each ready namespace is re-read */
	int idempotency_retention_h;  /* Idempotency-Key records kept this long */
	int purge_interval_s;
	int webhook_sweep_s;          /* how often lost inbox events are re-queued */
	int webhook_sweep_age_s;      /* ... once they are this old */
	bool allow_bypassrls;         /* accept a role that skips row-level security */
	bool db_pool_transaction;     /* ATRIUM_DB_POOL_MODE=transaction: behind a transaction pooler */
	/* atrium migrate (server/store/migrate.c) */
	char *migrations_dir;
	char *migrations_table;       /* the table recording applied files, in each database */
	bool migrate_accept_changed;  /* record the new checksum of an applied file that changed */
	int migrate_lock_timeout_ms;  /* a migration statement's wait for a lock */
	int migrate_statement_timeout_ms;
};

extern struct config cfg;

/* Reads the environment into cfg. Returns false and prints why on stderr
 * (naming the variable and what it accepts) when a value is malformed or out
 * of range: every integer and boolean ATRIUM_* setting is parsed here, so a
 * bad value stops the program at start instead of falling back silently. */
bool config_load(void);
void config_free(void);

/* Number of online CPUs, at least 1. */
int config_ncpu(void);

/* True when s is a managed cluster's ARM id:
 * /subscriptions/<uuid>/resourceGroups/<group>/providers/
 * Microsoft.ContainerService/managedClusters/<name> (fixed segments
 * case-insensitive, as ARM treats them; group 1-90 of [-\w.()], name a
 * 1-63 character [a-zA-Z0-9_-] label). */
bool config_is_aks_cluster_id(const char *s);

#endif
