/*
 * authdb.h - the auth service's data (auth_db): the users Atrium has seen,
 * keyed by Entra directory (tid) and object id (oid).
 */
#ifndef ATRIUM_AUTHDB_H
#define ATRIUM_AUTHDB_H

#include <stdbool.h>

#include "server/auth/auth.h"

void authdb_register(void);
/*
 * A user's id is derived from its directory and object id (UUIDv5), so it
 * is the same on every replica and after any crash: the auth_db record is
 * bookkeeping (first seen, last login) that may lag by a commit, and its
 * writes are committed asynchronously (synchronous_commit off on auth_db's
 * pool) to keep sign-in cheap.
 */
void authdb_user_id(const char *tid, const char *oid, char out[37]);

/* Upserts the user (last login now) and fills p->user_id. False when
 * auth_db is unreachable. */
bool authdb_record_user(struct principal *p);

#endif
