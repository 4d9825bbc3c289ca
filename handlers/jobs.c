/*
 * jobs.c - GET /v1/tenants/{tenant_id}/jobs/{job_id}: a background job's
 * status, attempts, finished steps and last error.
 */
#include "handlers/handlers.h"
#include "server/http/reply.h"

static void get_job(struct request *r)
{
	const char *tenant = r->params[0], *id = r->params[1];
	if (!util_is_uuid(id)) {
		reply_not_found(r);
		return;
	}
	struct db_conn *c = req_db_or_reply(r, DB_PORTAL, tenant);
	if (c == NULL)
		return;
	char *json = NULL;
	enum status st = portal_job_get(c, tenant, id, &r->arena, &json);
	switch (st) {
	case ST_OK:
		reply_json_text(r, 200, json);
		return;
	default:
		reply_status(r, st, DB_PORTAL);
		return;
	}
}

const struct route jobs_routes[] = {
	{HTTP_GET, "/v1/tenants/{tenant_id}/jobs/{job_id}", get_job, AUTH_REQUIRED,
	 ROLE_TENANT_ADMIN | ROLE_SUPPORT_USER, BODY_NONE, "jobs.get"},
};
const size_t jobs_routes_len = sizeof(jobs_routes) / sizeof(jobs_routes[0]);
