/*
 * wallet.c - the caller's wallet (GET …/wallet, members; admins and support
 * users may name a member with ?user_id=; billing viewers read payments and
 * the ledger, never a member's wallet) and the tenant's
 * ledger (GET …/ledger, tenant admins and billing viewers): read-only
 * views of billing_db's accounts and double-entry transactions.
 */
#include "services/billing.h"
#include "handlers/handlers.h"
#include "handlers/money.h"
#include "server/http/reply.h"
#include "server/http/validate.h"

#include <strings.h>

static const char *const tx_kinds[] = {"deposit", "withdrawal", "stake", "payout", "refund", NULL};

static void get_wallet(struct request *r)
{
	const char *user;
	if (!money_query_uuid_or_reply(r, "user_id", &user))
		return;
	if (user == NULL) {
		user = r->principal.user_id;
	} else if (!money_sees_all(&r->principal) && strcasecmp(user, r->principal.user_id) != 0) {
		reply_not_found(r); /* another member's wallet does not exist for a member */
		return;
	}
	const char *tenant = money_tenant(r);
	struct db_conn *c = req_db_or_reply(r, DB_BILLING, tenant);
	if (c == NULL)
		return;
	char *json = NULL;
	if (billing_wallet(c, tenant, user, &r->arena, &json) != ST_OK) {
		reply_db_failed(r, DB_BILLING);
		return;
	}
	reply_json_text(r, 200, json);
}

static void list_ledger(struct request *r)
{
	struct ledger_filter f = {0};
	if (!validate_limit_or_reply(r, 20, 100, &f.limit) || !page_cursor_or_reply(r, &f.cursor) ||
	    !money_query_enum_or_reply(r, "kind", tx_kinds, &f.kind) ||
	    !money_query_uuid_or_reply(r, "reference", &f.reference) ||
	    !money_query_uuid_or_reply(r, "user_id", &f.user_id))
		return;
	f.tenant_id = money_tenant(r);
	struct db_conn *c = req_db(r, DB_BILLING, f.tenant_id);
	char *page = NULL;
	if (c == NULL || billing_ledger_list(c, &f, &r->arena, &page) != ST_OK) {
		reply_db_unreachable(r, DB_BILLING);
		return;
	}
	reply_json_text(r, 200, page);
}

const struct route wallet_routes[] = {
	{HTTP_GET, "/v1/tenants/{tenant_id}/wallet", get_wallet, AUTH_REQUIRED, ROLE_MEMBER | ROLE_TENANT_ADMIN | ROLE_SUPPORT_USER, BODY_NONE, "wallet.get"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/ledger", list_ledger, AUTH_REQUIRED, ROLE_TENANT_ADMIN | ROLE_BILLING_VIEWER, BODY_NONE, "ledger.list"},
};
const size_t wallet_routes_len = sizeof(wallet_routes) / sizeof(wallet_routes[0]);
