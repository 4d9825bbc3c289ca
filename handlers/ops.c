/*
 * ops.c - operations endpoints: /healthz, /readyz, /metrics, /openapi.yaml.
 */
#include "server/common/config.h"
#include "handlers/handlers.h"
#include "server/common/metrics.h"
#include "server/auth/jwks.h"
#include "server/store/redis.h"
#include "server/http/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Liveness: the process answers. Touches no other service, so a database,
 * Redis or identity provider outage never gets a pod restarted. */
static void healthz(struct request *r)
{
	reply_json_text(r, 200, "{\"status\":\"ok\"}");
}

/*
 * Readiness: whether this pod can serve its core traffic, bearer-token API
 * calls. Core (any one down answers 503, status "unavailable"): the four
 * service databases (portal_db and auth_db resolve every caller's tenant and
 * user; betting_db and billing_db hold the bets, wallets and ledger that most
 * of the API is about) and the identity provider's signing keys, loaded at
 * least once (jwks keeps the last good keys through an outage of the
 * provider, so only a pod that never loaded them is not ready).
 * Degraded (200, status "degraded"): Redis. Without it bearer callers are
 * served and their rate limits fail open, while cookie sessions, sign-in and
 * the portal answer 503; taking every pod out of the Service for a Redis blip
 * would stop the bearer traffic too.
 */
static void readyz(struct request *r)
{
	json_t *checks = json_object();
	bool ready = true;
	for (int s = 0; s < DB_SERVICE_COUNT; s++) {
		bool ok = db_ping((enum db_service)s);
		ready &= ok;
		json_object_set_new(checks, db_service_name((enum db_service)s), json_string(ok ? "ok" : "down"));
	}
	/* The issuer template is installed with the first usable key set and
	 * never removed, so it stands for "signing keys loaded". */
	char issuer[2048];
	bool idp = jwks_issuer_for("00000000-0000-0000-0000-000000000000", issuer, sizeof(issuer));
	ready &= idp;
	json_object_set_new(checks, "identity_provider", json_string(idp ? "ok" : "down"));
	bool rok = redis_ping();
	json_object_set_new(checks, "redis", json_string(rok ? "ok" : "down"));
	const char *status = !ready ? "unavailable" : rok ? "ready" : "degraded";
	json_t *body = json_pack("{s:s, s:o}", "status", status, "checks", checks);
	reply_json(r, ready ? 200 : 503, body);
}

static void metrics(struct request *r)
{
	char *text = metrics_render();
	reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
	free(text);
}

static void openapi(struct request *r)
{
	FILE *f = fopen(cfg.openapi_path, "rb");
	if (f == NULL) {
		reply_not_found(r);
		return;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	do {
		if (cap - len < 8192) {
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	reply_bytes(r, 200, "application/yaml", buf, len);
	reply_header(r, "Cache-Control", "public, max-age=300");
	free(buf);
}

const struct route ops_routes[] = {
	{HTTP_GET, "/healthz", healthz, AUTH_NONE, ROLE_ANY, BODY_NONE, "ops.healthz"},
	{HTTP_GET, "/readyz", readyz, AUTH_NONE, ROLE_ANY, BODY_NONE, "ops.readyz"},
	{HTTP_GET, "/metrics", metrics, AUTH_NONE, ROLE_ANY, BODY_NONE, "ops.metrics"},
	{HTTP_GET, "/openapi.yaml", openapi, AUTH_NONE, ROLE_ANY, BODY_NONE, "ops.openapi"},
};
const size_t ops_routes_len = sizeof(ops_routes) / sizeof(ops_routes[0]);
