/*
 * me.c - GET /v1/me: who the caller is, in which tenant, with which roles.
 */
#include "handlers/handlers.h"
#include "server/http/reply.h"

#include <string.h>

static json_t *opt_string(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static void me(struct request *r)
{
	struct principal *p = &r->principal;
	json_t *tenant = json_null();
	if (p->tenant_id[0]) {
		struct db_conn *c = req_db_or_reply(r, DB_PORTAL, p->tenant_id);
		if (c == NULL)
			return;
		struct tenant_out t;
		enum status st = portal_tenant_get(c, p->tenant_id, false, &r->arena, &t);
		if (st == ST_UNAVAILABLE) {
			reply_db_failed(r, DB_PORTAL);
			return;
		}
		if (st == ST_OK) {
			json_t *full = req_own_json(r, json_loads(t.json, 0, NULL));
			tenant = json_pack("{s:O?, s:O?, s:O?, s:O?}", "id", json_object_get(full, "id"),
					   "slug", json_object_get(full, "slug"), "name",
					   json_object_get(full, "name"), "status",
					   json_object_get(full, "status"));
			if (tenant == NULL)
				tenant = json_null();
		}
	}
	json_t *roles = json_array();
	for (unsigned bit = 1; bit <= ROLE_MEMBER; bit <<= 1)
		if (p->roles & bit)
			json_array_append_new(roles, json_string(auth_role_name(bit)));
	json_t *body = json_pack(
		"{s:{s:s, s:s, s:s, s:o, s:o}, s:o, s:o, s:s}",
		"user", "id", p->user_id, "tid", p->tid, "oid", p->oid, "name", opt_string(p->name),
		"username", opt_string(p->username),
		"tenant", tenant, "roles", roles, "auth", p->kind == AUTH_KIND_COOKIE ? "cookie" : "bearer");
	reply_json(r, 200, body);
}

const struct route me_routes[] = {
	{HTTP_GET, "/v1/me", me, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "me.get"},
};
const size_t me_routes_len = sizeof(me_routes) / sizeof(me_routes[0]);
