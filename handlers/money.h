/*
 * money.h - what the money handlers (events, bets, payments, wallet) share:
 * who may see and move what, Idempotency-Key handling, and the replies
 * that stored idempotent responses turn back into.
 */
#ifndef ATRIUM_MONEY_H
#define ATRIUM_MONEY_H

#include <stdbool.h>

#include "server/http/http.h"
#include "server/store/idempotency.h"

/* The path's {tenant_id}, lower-cased (arena): RLS compares text. */
const char *money_tenant(struct request *r);

/* Tenant admins, support users, billing viewers and super admins see every
 * member's records where their route lets them in (billing viewers reach
 * payments and the ledger, not bets or wallets); a member sees only its own. */
bool money_sees_all(const struct principal *p);

/*
 * Money moves only for the caller itself, a user of this tenant. False
 * after answering 403 (a super admin of the operator's directory has no
 * wallet in a tenant).
 */
bool money_self_or_reply(struct request *r);

/*
 * Lists of money records: a member sees only its own, so *user_id (the
 * ?user_id filter, may be NULL) becomes the caller; asking for someone
 * else's answers an empty page. False after answering.
 */
bool money_own_records_or_reply(struct request *r, const char **user_id);

/* The key's namespace: one member of one tenant (arena). */
char *money_idem_scope(struct request *r);

/*
 * Opens the idempotent part of a write on c (the service database the
 * write goes to): with a key, BEGIN and claim it. Without a key nothing
 * happens and it returns true. False when the caller must stop: the
 * request was answered (a replay, a reused key, a failure) or, when
 * in_progress is not NULL, the key's first request never stored an answer
 * (*in_progress set, transaction rolled back, nothing answered).
 */
bool money_idem_open_or_reply(struct request *r, struct db_conn *c, const char *key,
			      bool *in_progress);
/* Stores the answer with the key and commits (no-op without a key).
 * False after answering 503. */
bool money_idem_close_or_reply(struct request *r, struct db_conn *c, const char *key, int status,
			       const char *body, const char *location, const char *etag);

/*
 * Answers with a stored idempotent response (Idempotent-Replayed: true).
 * Problems are stored as "problem:<code>" and rebuilt here, so they stay
 * problem+json with this request's id.
 */
void money_reply_replay(struct request *r, const struct idem_record *rec);

/* The stored form of a problem answer, for idem_finish(). */
#define MONEY_PROBLEM_INSUFFICIENT "problem:insufficient-funds"
#define MONEY_PROBLEM_LIMIT "problem:balance-limit"
#define MONEY_PROBLEM_EXPIRED "problem:bet-expired"
#define MONEY_PROBLEM_DEPOSIT_LIMIT "problem:deposit-limit"

/* Replies for those problems (also used when they first happen). */
void money_reply_insufficient(struct request *r);
void money_reply_limit(struct request *r);
void money_reply_deposit_limit(struct request *r);
void money_reply_expired(struct request *r);

/* 400 naming a bad query parameter. */
void money_reply_bad_query(struct request *r, const char *name, const char *message);

/* A query parameter that must be a UUID: false after answering 400. */
bool money_query_uuid_or_reply(struct request *r, const char *name, const char **out);
/* A query parameter that must be one of values (NULL-terminated). */
bool money_query_enum_or_reply(struct request *r, const char *name, const char *const *values,
			       const char **out);

#endif
