/*
 * idempotency.h - Idempotency-Key support for POSTs that create or move
 * money. Every service database has the same idempotency_keys table, so the
 * key is stored in the same transaction as the write it protects.
 *
 * Use, inside a transaction on the service's connection:
 *   idem_begin() -> IDEM_PROCEED: do the write, then idem_finish(), COMMIT.
 *                -> IDEM_REPLAY: answer with the stored status and body.
 *                -> IDEM_MISMATCH: the key was used with another request: 422.
 * A concurrent request with the same key waits on the first one's row lock
 * and then replays its committed answer.
 */
#ifndef ATRIUM_IDEMPOTENCY_H
#define ATRIUM_IDEMPOTENCY_H

#include <stdbool.h>

#include "server/store/db.h"
#include "server/common/util.h"

enum idem_result { IDEM_PROCEED, IDEM_REPLAY, IDEM_MISMATCH, IDEM_ERROR };

struct idem_record {
	int status;
	char *body;      /* arena */
	char *location;  /* arena, may be NULL */
	char *etag;      /* arena, may be NULL */
};

void idem_register(void);

/* True when the key is 1..255 printable ASCII characters. */
bool idem_key_valid(const char *key);

enum idem_result idem_begin(struct db_conn *c, const char *scope, const char *key,
			    const char *request_hash, struct arena *a, struct idem_record *out);
bool idem_finish(struct db_conn *c, const char *scope, const char *key, int status,
		 const char *body, const char *location, const char *etag);

/*
 * Deletes finished keys older than `hours` on c (a service database's
 * connection scoped "*"), at most 10 000 per call. Returns the number
 * deleted, -1 on failure.
 */
long idem_purge(struct db_conn *c, int hours);

#endif
