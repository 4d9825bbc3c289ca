/*
 * authdb.c - users seen, in auth_db.
 */
#include "services/authdb.h"
#include "server/store/db.h"
#include "server/common/util.h"

#include <stdio.h>
#include <string.h>

static const struct db_stmt stmts[] = {
	{"authdb_upsert_user",
	 "INSERT INTO users (id, tid, oid, tenant_id, name, username) "
	 "VALUES ($6, $1, $2, NULLIF($3, '')::uuid, NULLIF($4, ''), NULLIF($5, '')) "
	 "ON CONFLICT (tid, oid) DO UPDATE SET last_login_at = now(), "
	 "  tenant_id = EXCLUDED.tenant_id, "
	 "  name = COALESCE(EXCLUDED.name, users.name), "
	 "  username = COALESCE(EXCLUDED.username, users.username) "
	 "RETURNING id"},
};

/* Namespace of user ids: a fixed, arbitrary UUID. */
#define USER_ID_NAMESPACE "6f1d3c2a-4b5e-4f60-9a7b-8c9d0e1f2a3b"

void authdb_user_id(const char *tid, const char *oid, char out[37])
{
	char name[80];
	snprintf(name, sizeof(name), "%s:%s", tid, oid);
	util_uuid_v5(USER_ID_NAMESPACE, name, out);
}

void authdb_register(void)
{
	db_register(DB_AUTH, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

bool authdb_record_user(struct principal *p)
{
	struct db_conn *c = db_acquire(DB_AUTH);
	if (c == NULL)
		return false;
	bool ok = false;
	/* The auth service keeps its own books platform-wide. */
	if (db_scope(c, "*")) {
		char id[37];
		authdb_user_id(p->tid, p->oid, id);
		const char *v[] = {p->tid, p->oid, p->tenant_id, p->name, p->username, id};
		PGresult *res = db_exec(c, "authdb_upsert_user", 6, v);
		if (db_ok(res) && PQntuples(res) == 1) {
			snprintf(p->user_id, sizeof(p->user_id), "%s", PQgetvalue(res, 0, 0));
			ok = true;
		}
		PQclear(res);
	}
	db_release(c);
	return ok;
}
