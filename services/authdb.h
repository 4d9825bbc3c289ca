/*
 * authdb.h - the auth service's data (auth_db): the users Atrium has seen,
 * keyed by Entra directory (tid) and object id (oid).
 */
#ifndef ATRIUM_AUTHDB_H
#define ATRIUM_AUTHDB_H

#include <stdbool.h>

#include "auth.h"

void authdb_register(void);
/* Upserts the user (last login now) and fills p->user_id. False when
 * auth_db is unreachable. */
bool authdb_record_user(struct principal *p);

#endif
