/*
 * audit.c - GET /v1/tenants/{tenant_id}/audit: the tenant's audit log.
 */
#include "handlers/handlers.h"
#include "server/http/reply.h"
#include "server/http/validate.h"

#include <string.h>

static bool short_token(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static void list_audit(struct request *r)
{
	const char *tenant = r->params[0];
	struct audit_filter f = {.tenant_id = tenant};
	if (!validate_limit_or_reply(r, 50, 200, &f.limit) || !page_cursor_or_reply(r, &f.cursor))
		return;
	f.action = req_query(r, "action");
	f.resource_type = req_query(r, "resource_type");
	if ((f.action && !short_token(f.action)) || (f.resource_type && !short_token(f.resource_type))) {
		json_t *errors = NULL;
		problem_add_error(&errors, f.action && !short_token(f.action) ? "action" : "resource_type",
				  "must be 1-64 characters of a-z, 0-9, '.', '_' or '-'");
		reply_problem(r, 400, "invalid-query", "Bad Request", "A query parameter is invalid.", errors);
		return;
	}
	struct db_conn *c = req_db(r, DB_PORTAL, tenant);
	char *page = NULL;
	if (c == NULL || portal_audit_list(c, &f, &r->arena, &page) != ST_OK) {
		reply_db_unreachable(r, DB_PORTAL);
		return;
	}
	reply_json_text(r, 200, page);
}

const struct route audit_routes[] = {
	{HTTP_GET, "/v1/tenants/{tenant_id}/audit", list_audit, AUTH_REQUIRED,
	 ROLE_TENANT_ADMIN | ROLE_SUPPORT_USER, BODY_NONE, "audit.list"},
};
const size_t audit_routes_len = sizeof(audit_routes) / sizeof(audit_routes[0]);
