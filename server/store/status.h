/*
 * status.h - the one result vocabulary of the services and the store: what
 * happened to a read or a change, in the data's terms, never HTTP's. The
 * reply module maps each value to an HTTP status, a problem type and a
 * title in one table (server/http/reply.c, reply_status()); a handler
 * replies itself only where it has more to say than that table.
 */
#ifndef ATRIUM_STATUS_H
#define ATRIUM_STATUS_H

enum status {
	ST_OK,
	ST_NOT_FOUND,
	ST_CONFLICT,       /* a unique field is taken (the service names it) */
	ST_PRECONDITION,   /* If-Match did not match */
	ST_GONE,           /* the resource is deleted: no more changes */
	ST_FINAL,          /* settled or cancelled: no more changes */
	ST_INVALID,        /* the result would break a constraint */
	ST_ALREADY,        /* an idempotent change that was made before */
	ST_INSUFFICIENT,   /* the wallet cannot cover the debit: nothing moved */
	ST_LIMIT,          /* a balance would overflow: nothing moved */
	ST_NO_SELECTION,   /* the event has no such selection */
	ST_CLOSED,         /* the event takes no bets (not open, or started) */
	ST_ODDS_CHANGED,   /* the odds are not the current ones */
	ST_DUPLICATE,      /* an idempotency key names another change in flight */
	ST_UNAVAILABLE,    /* the database is unreachable or failed */
	ST_BUSY,           /* as many streamed exports as allowed are running */
	ST_COUNT
};


#endif
