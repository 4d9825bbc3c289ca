/*
 * money.c - see money.h.
 */
#include "handlers/money.h"
#include "handlers/handlers.h"
#include "server/common/config.h"
#include "server/http/reply.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

const char *money_tenant(struct request *r)
{
	char *t = arena_strdup(&r->arena, r->tenant_id ? r->tenant_id : "");
	for (char *p = t; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return t;
}

bool money_sees_all(const struct principal *p)
{
	return (p->roles & (ROLE_SUPER_ADMIN | ROLE_TENANT_ADMIN | ROLE_SUPPORT_USER |
			    ROLE_BILLING_VIEWER)) != 0;
}

bool money_self_or_reply(struct request *r)
{
	if (r->principal.user_id[0] == '\0' || r->tenant_id == NULL ||
	    strcasecmp(r->principal.tenant_id, r->tenant_id) != 0) {
		reply_forbidden(r, "Money moves only for the caller itself, a member of this tenant.");
		return false;
	}
	return true;
}


char *money_idem_scope(struct request *r)
{
	return arena_printf(&r->arena, "%s:%s", money_tenant(r), r->principal.user_id);
}

bool money_idem_open_or_reply(struct request *r, struct db_conn *c, const char *key,
			      bool *in_progress)
{
	if (in_progress)
		*in_progress = false;
	if (key == NULL)
		return true;
	if (!db_begin(c)) {
		reply_unavailable(r, "the database failed");
		return false;
	}
	return handler_idem_claim_or_reply(r, c, money_idem_scope(r), key, money_reply_replay, in_progress);
}

bool money_idem_close_or_reply(struct request *r, struct db_conn *c, const char *key, int status,
			       const char *body, const char *location, const char *etag)
{
	if (key == NULL)
		return true;
	if (!idem_finish(c, money_idem_scope(r), key, status, body, location, etag) || !db_commit(c)) {
		db_rollback(c);
		reply_unavailable(r, "the database failed");
		return false;
	}
	return true;
}

void money_reply_insufficient(struct request *r)
{
	reply_problem(r, 422, "insufficient-funds", "Unprocessable Content",
		      "The wallet's balance in this currency does not cover the amount; nothing was moved.",
		      NULL);
}

void money_reply_limit(struct request *r)
{
	reply_problem(r, 422, "balance-limit", "Unprocessable Content",
		      "The wallet's balance would exceed the largest amount it can hold; nothing was moved.",
		      NULL);
}

void money_reply_expired(struct request *r)
{
	reply_problem(r, 409, "bet-expired", "Conflict",
		      "The bet could not be completed in time and was rejected; any stake taken is refunded.",
		      NULL);
}


void money_reply_deposit_limit(struct request *r)
{
	char *detail = arena_printf(&r->arena,
				    "Deposits are capped at %lld minor units a payment and %lld a day "
				    "(UTC) per member and currency; this one would pass the daily cap. "
				    "Nothing was moved.",
				    cfg.deposit_max_minor, cfg.deposit_daily_max_minor);
	json_t *errors = NULL;
	problem_add_error(&errors, "amount_minor", "would exceed today's deposit limit");
	reply_problem(r, 422, "deposit-limit", "Unprocessable Content", detail, errors);
}

void money_reply_replay(struct request *r, const struct idem_record *rec)
{
	if (strncmp(rec->body, "problem:", 8) == 0) {
		const char *code = rec->body + 8;
		if (strcmp(code, "insufficient-funds") == 0)
			money_reply_insufficient(r);
		else if (strcmp(code, "balance-limit") == 0)
			money_reply_limit(r);
		else if (strcmp(code, "bet-expired") == 0)
			money_reply_expired(r);
		else if (strcmp(code, "deposit-limit") == 0)
			money_reply_deposit_limit(r);
		else
			reply_internal(r);
	} else {
		handler_idem_replay(r, rec);
		return;
	}
	reply_header(r, "Idempotent-Replayed", "true");
}

void money_reply_bad_query(struct request *r, const char *name, const char *message)
{
	json_t *errors = NULL;
	problem_add_error(&errors, name, message);
	char *detail = arena_printf(&r->arena, "The query parameter %s is invalid.", name);
	reply_problem(r, 400, "invalid-query", "Bad Request", detail, errors);
}

bool money_query_uuid_or_reply(struct request *r, const char *name, const char **out)
{
	*out = req_query(r, name);
	if (*out == NULL || util_is_uuid(*out))
		return true;
	money_reply_bad_query(r, name, "must be a UUID");
	return false;
}

bool money_query_enum_or_reply(struct request *r, const char *name, const char *const *values,
			       const char **out)
{
	*out = req_query(r, name);
	if (*out == NULL)
		return true;
	for (const char *const *v = values; *v; v++)
		if (strcmp(*v, *out) == 0)
			return true;
	money_reply_bad_query(r, name, "is not one of the allowed values");
	return false;
}

bool money_own_records_or_reply(struct request *r, const char **user_id)
{
	if (money_sees_all(&r->principal))
		return true;
	/* A member lists its own records, whatever it asks for. */
	if (*user_id && strcasecmp(*user_id, r->principal.user_id) != 0) {
		reply_json_text(r, 200, "{\"data\":[],\"next_cursor\":null}");
		return false;
	}
	*user_id = r->principal.user_id;
	return true;
}
