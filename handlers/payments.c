/*
 * payments.c - /v1/tenants/{tenant_id}/payments: a member deposits into and
 * withdraws from its own wallet; admins, support users and billing viewers
 * read every member's payments.
 *
 * The built-in provider settles at once: the payment, its ledger
 * transaction and the Idempotency-Key's record commit in one billing_db
 * transaction. A withdrawal the wallet cannot cover is refused with 422
 * and moves nothing; with a key, that refusal is stored too (the posting
 * is rolled back to a savepoint first), so a retry answers the same.
 *
 * Audit: each payment is recorded in portal_db's audit log after its
 * commit (best effort); the payment row and its ledger transaction carry
 * the member, the time and the request id.
 */
#include "services/billing.h"
#include "handlers/handlers.h"
#include "handlers/money.h"
#include "server/common/config.h"
#include "server/http/reply.h"
#include "server/http/validate.h"

#include <string.h>
#include <strings.h>

#define NFIELDS(a) (sizeof(a) / sizeof(a[0]))
#define MAX_AMOUNT_MINOR 1000000000000LL   /* 1e12 minor units per payment */

static const char *const directions[] = {"deposit", "withdrawal", NULL};
static const char *const payment_status[] = {"pending", "succeeded", "failed", NULL};

static const struct field_spec create_fields[] = {
	{"direction", FT_ENUM, F_REQUIRED, 0, 0, directions},
	{"amount_minor", FT_INTEGER, F_REQUIRED, 1, MAX_AMOUNT_MINOR, NULL},
	{"currency", FT_CURRENCY, F_REQUIRED, 0, 0, NULL},
	{"id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"user_id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"status", FT_STRING, F_READONLY, 0, 0, NULL},
	{"transaction_id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"created_at", FT_STRING, F_READONLY, 0, 0, NULL},
	{"updated_at", FT_STRING, F_READONLY, 0, 0, NULL},
};

/* A refused posting: with a key, the refusal is stored as the answer. */
static void refuse(struct request *r, struct db_conn *c, const char *key, enum status st)
{
	const char *stored = st == ST_LIMIT ? MONEY_PROBLEM_LIMIT : MONEY_PROBLEM_INSUFFICIENT;
	if (key && !db_exec_simple(c, "ROLLBACK TO SAVEPOINT posting")) {
		db_rollback(c);
		reply_db_failed(r, DB_BILLING);
		return;
	}
	if (!money_idem_close_or_reply(r, c, key, 422, stored, NULL, NULL))
		return;
	if (st == ST_LIMIT)
		money_reply_limit(r);
	else
		money_reply_insufficient(r);
}

/* A deposit larger than one payment may be: 422 naming the field. */
static bool deposit_size_ok_or_reply(struct request *r)
{
	json_t *in = r->json;
	if (strcmp(json_string_value(json_object_get(in, "direction")), "deposit") != 0 ||
	    json_integer_value(json_object_get(in, "amount_minor")) <= cfg.deposit_max_minor)
		return true;
	json_t *errors = NULL;
	char *msg = arena_printf(&r->arena, "a deposit is at most %lld (ATRIUM_DEPOSIT_MAX_MINOR)",
				 cfg.deposit_max_minor);
	problem_add_error(&errors, "amount_minor", msg);
	reply_problem(r, 422, "validation", "Unprocessable Content",
		      "The request body has invalid fields; see errors.", errors);
	return false;
}

static void create_payment(struct request *r)
{
	if (!validate_body_or_reply(r, r->json, create_fields, NFIELDS(create_fields), 0) ||
	    !deposit_size_ok_or_reply(r) || !money_self_or_reply(r))
		return;
	const char *key;
	if (!handler_idem_key_or_reply(r, &key))
		return;
	const char *tenant = money_tenant(r);
	struct db_conn *c = req_db_or_reply(r, DB_BILLING, tenant);
	if (c == NULL)
		return;
	if (!money_idem_open_or_reply(r, c, key, NULL))
		return;
	json_t *in = r->json;
	const char *direction = json_string_value(json_object_get(in, "direction"));
	const char *currency = json_string_value(json_object_get(in, "currency"));
	char amount[24];
	snprintf(amount, sizeof(amount), "%lld", (long long)json_integer_value(json_object_get(in, "amount_minor")));
	const char *user = r->principal.user_id;

	bool deposit = strcmp(direction, "deposit") == 0;
	/* A deposit runs in a transaction (with a key it already does): its
	 * daily cap is checked with the member's wallet locked. */
	bool own_tx = deposit && key == NULL;
	if (own_tx && !db_begin(c)) {
		reply_db_failed(r, DB_BILLING);
		return;
	}
	long long today = 0;
	if (deposit && (billing_accounts_ensure(c, tenant, user, currency) != ST_OK ||
			billing_deposits_today(c, tenant, user, currency, &today) != ST_OK)) {
		db_rollback(c);
		reply_db_failed(r, DB_BILLING);
		return;
	}
	if (deposit && today + json_integer_value(json_object_get(in, "amount_minor")) >
			       cfg.deposit_daily_max_minor) {
		if (own_tx)
			db_rollback(c);
		else if (!money_idem_close_or_reply(r, c, key, 422, MONEY_PROBLEM_DEPOSIT_LIMIT, NULL, NULL))
			return;
		money_reply_deposit_limit(r);
		return;
	}
	if (key && !db_exec_simple(c, "SAVEPOINT posting")) {
		db_rollback(c);
		reply_db_failed(r, DB_BILLING);
		return;
	}
	char *json = NULL, id[37];
	enum status st = billing_payment_create(c, tenant, user, direction, amount, currency,
							r->request_id, &r->arena, &json, id);
	switch (st) {
	case ST_OK:
		break;
	case ST_INSUFFICIENT:
	case ST_LIMIT:
		if (own_tx) {
			db_rollback(c);
			if (st == ST_LIMIT)
				money_reply_limit(r);
			else
				money_reply_insufficient(r);
			return;
		}
		refuse(r, c, key, st);
		return;
	default:
		db_rollback(c);
		reply_db_failed(r, DB_BILLING);
		return;
	}
	char *location = arena_printf(&r->arena, "/v1/tenants/%s/payments/%s", tenant, id);
	if (own_tx && !db_commit(c)) {
		db_rollback(c);
		reply_db_failed(r, DB_BILLING);
		return;
	}
	if (!money_idem_close_or_reply(r, c, key, 201, json, location, NULL))
		return;
	handler_audit(r, tenant, deposit ? "payment.deposit" : "payment.withdrawal", "payment", id,
		      req_own_json(r, json_loads(json, 0, NULL)));
	reply_json_text(r, 201, json);
	reply_header(r, "Location", location);
}

static void list_payments(struct request *r)
{
	struct payment_filter f = {0};
	if (!validate_limit_or_reply(r, 20, 100, &f.limit) || !page_cursor_or_reply(r, &f.cursor) ||
	    !money_query_enum_or_reply(r, "direction", directions, &f.direction) ||
	    !money_query_enum_or_reply(r, "status", payment_status, &f.status) ||
	    !money_query_uuid_or_reply(r, "user_id", &f.user_id))
		return;
	f.currency = req_query(r, "currency");
	if (f.currency) {
		struct field_spec cur = {"currency", FT_CURRENCY, 0, 0, 0, NULL};
		const char *msg = validate_value(&cur, req_own_json(r, json_string(f.currency)));
		if (msg) {
			money_reply_bad_query(r, "currency", msg);
			return;
		}
	}
	f.tenant_id = money_tenant(r);
	if (!money_own_records_or_reply(r, &f.user_id))
		return;
	struct db_conn *c = req_db(r, DB_BILLING, f.tenant_id);
	char *page = NULL;
	if (c == NULL || billing_payment_list(c, &f, &r->arena, &page) != ST_OK) {
		reply_db_unreachable(r, DB_BILLING);
		return;
	}
	reply_json_text(r, 200, page);
}

static void get_payment(struct request *r)
{
	const char *id = r->params[1];
	if (!util_is_uuid(id)) {
		reply_not_found(r);
		return;
	}
	const char *tenant = money_tenant(r);
	struct db_conn *c = req_db_or_reply(r, DB_BILLING, tenant);
	if (c == NULL)
		return;
	const char *only = money_sees_all(&r->principal) ? NULL : r->principal.user_id;
	char *json = NULL;
	switch (billing_payment_get(c, tenant, id, only, &r->arena, &json)) {
	case ST_OK:
		reply_json_text(r, 200, json);
		return;
	case ST_NOT_FOUND:
		reply_not_found(r);
		return;
	default:
		reply_db_failed(r, DB_BILLING);
		return;
	}
}

const struct route payments_routes[] = {
	{HTTP_POST, "/v1/tenants/{tenant_id}/payments", create_payment, AUTH_REQUIRED, ROLE_MEMBER, BODY_JSON, "payments.create"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/payments", list_payments, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "payments.list"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/payments/{payment_id}", get_payment, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "payments.get"},
};
const size_t payments_routes_len = sizeof(payments_routes) / sizeof(payments_routes[0]);

const struct body_table payments_bodies[] = {
	{"payments.create", create_fields, NFIELDS(create_fields), 0},
};
const size_t payments_bodies_len = sizeof(payments_bodies) / sizeof(payments_bodies[0]);
