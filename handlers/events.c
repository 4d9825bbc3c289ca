/*
 * events.c - /v1/tenants/{tenant_id}/events: a tenant's sporting events,
 * their selections and odds; posting a result (settles) or cancelling
 * (refunds).
 *
 * Tenant admins write, everyone in the tenant reads. A result or a cancel
 * is decided here, in betting_db (the event's row lock orders it against
 * bets being placed), and carried out by the worker: the handler queues an
 * event.settle or event.cancel job and answers 202. Should queueing fail,
 * the worker's reconciliation finds the ended event with unsettled bets and
 * settles it anyway.
 *
 * Audit: each change is recorded in portal_db's audit log after its
 * commit (best effort; the event row itself carries version and times).
 */
#include "services/betting.h"
#include "handlers/handlers.h"
#include "server/jobs/jobs.h"
#include "server/common/log.h"
#include "handlers/money.h"
#include "server/http/reply.h"
#include "server/http/validate.h"

#include <string.h>

#define NFIELDS(a) (sizeof(a) / sizeof(a[0]))
#define MAX_SELECTIONS 50

static const char *const create_status[] = {"scheduled", "open", NULL};
static const char *const patch_status[] = {"scheduled", "open", "closed", NULL};
static const char *const all_status[] = {"scheduled", "open", "closed", "settled", "cancelled", NULL};

static const struct field_spec create_fields[] = {
	{"name", FT_STRING, F_REQUIRED, 1, 200, NULL},
	{"sport", FT_STRING, F_REQUIRED, 1, 64, NULL},
	{"starts_at", FT_TIMESTAMP, F_REQUIRED, 0, 0, NULL},
	{"status", FT_ENUM, 0, 0, 0, create_status},
	{"selections", FT_ARRAY, F_REQUIRED, 2, MAX_SELECTIONS, NULL},
	{"id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"result", FT_STRING, F_READONLY, 0, 0, NULL},
	{"bets_settled_at", FT_STRING, F_READONLY, 0, 0, NULL},
	{"created_at", FT_STRING, F_READONLY, 0, 0, NULL},
	{"updated_at", FT_STRING, F_READONLY, 0, 0, NULL},
};

static const struct field_spec patch_fields[] = {
	{"name", FT_STRING, 0, 1, 200, NULL},
	{"sport", FT_STRING, 0, 1, 64, NULL},
	{"starts_at", FT_TIMESTAMP, 0, 0, 0, NULL},
	{"status", FT_ENUM, 0, 0, 0, patch_status},
	{"selections", FT_ARRAY, 0, 1, MAX_SELECTIONS, NULL},
	{"id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"result", FT_STRING, F_READONLY, 0, 0, NULL},
	{"bets_settled_at", FT_STRING, F_READONLY, 0, 0, NULL},
	{"created_at", FT_STRING, F_READONLY, 0, 0, NULL},
	{"updated_at", FT_STRING, F_READONLY, 0, 0, NULL},
};

static const struct field_spec result_fields[] = {
	{"winning_selection", FT_STRING, F_REQUIRED, 1, 64, NULL},
};

/* A selection: key is required; name and odds are required on create and
 * on new keys in a PATCH (the database checks the latter). */
static const struct field_spec selection_fields[] = {
	{"key", FT_STRING, F_REQUIRED, 1, 64, NULL},
	{"name", FT_STRING, 0, 1, 200, NULL},
	{"odds", FT_DECIMAL, 0, 0, 4, NULL},
};

static bool key_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* Decimal odds pay back the stake and more: they must be above 1. The
 * string is already a valid FT_DECIMAL (digits, optional fraction). */
static bool odds_above_one(const char *s)
{
	while (*s == '0')
		s++;
	size_t int_len = strcspn(s, ".");
	if (int_len > 1 || (int_len == 1 && s[0] > '1'))
		return true;
	if (int_len == 0)
		return false;
	/* Integer part is 1: some fraction digit must not be zero. */
	for (const char *p = s + 1; *p; p++)
		if (*p >= '1' && *p <= '9')
			return true;
	return false;
}

/*
 * Checks each item of selections[]; `full` requires name and odds on every
 * item (create). False after answering 422 naming selections[i].member.
 */
static bool selections_ok_or_reply(struct request *r, json_t *arr, bool full)
{
	json_t *errors = NULL;
	size_t i;
	json_t *item;
	json_array_foreach(arr, i, item) {
		char *where = arena_printf(&r->arena, "selections[%zu]", i);
		if (!json_is_object(item)) {
			problem_add_error(&errors, where, "must be an object {key, name, odds}");
			continue;
		}
		const char *k;
		json_t *v;
		json_object_foreach(item, k, v) {
			const struct field_spec *f = NULL;
			for (size_t s = 0; s < NFIELDS(selection_fields); s++)
				if (strcmp(selection_fields[s].name, k) == 0)
					f = &selection_fields[s];
			char *field = arena_printf(&r->arena, "%s.%s", where, k);
			const char *msg = f ? validate_value(f, v) : "is not a known field";
			if (msg == NULL && strcmp(k, "key") == 0 && !key_chars_ok(json_string_value(v)))
				msg = "may hold only letters, digits, '_', '.' and '-'";
			if (msg == NULL && strcmp(k, "odds") == 0 && !odds_above_one(json_string_value(v)))
				msg = "must be greater than 1";
			if (msg)
				problem_add_error(&errors, field, msg);
		}
		for (size_t s = 0; s < NFIELDS(selection_fields); s++) {
			bool required = (selection_fields[s].flags & F_REQUIRED) || full;
			if (required && json_object_get(item, selection_fields[s].name) == NULL)
				problem_add_error(&errors, arena_printf(&r->arena, "%s.%s", where,
									selection_fields[s].name),
						  "is required");
		}
		const char *key = json_string_value(json_object_get(item, "key"));
		for (size_t j = 0; key && j < i; j++) {
			const char *other = json_string_value(json_object_get(json_array_get(arr, j), "key"));
			if (other && strcmp(key, other) == 0) {
				problem_add_error(&errors, arena_printf(&r->arena, "%s.key", where),
						  "repeats the key of another selection");
				break;
			}
		}
	}
	if (errors == NULL)
		return true;
	reply_problem(r, 422, "validation", "Unprocessable Content",
		      "The request body has invalid fields; see errors.", errors);
	return false;
}

static void reply_event(struct request *r, int status, const struct event_out *e)
{
	reply_json_text(r, status, e->json);
	reply_header(r, "ETag", handler_etag(r, e->version));
}

static void reply_invalid_field(struct request *r, const char *field)
{
	json_t *errors = NULL;
	problem_add_error(&errors, field,
			  strcmp(field, "selections") == 0
				  ? "would leave the event with invalid selections (a new key needs a name and odds; keys are unique; 2 to 50 selections)"
				  : "is not a date-time this server can store");
	reply_problem(r, 422, "validation", "Unprocessable Content",
		      "The request body has invalid fields; see errors.", errors);
}

static void audit(struct request *r, const char *tenant, const char *action, const char *id)
{
	handler_audit(r, tenant, action, "event", id, r->json);
}

static void create_event(struct request *r)
{
	if (!validate_body_or_reply(r, r->json, create_fields, NFIELDS(create_fields), 0) ||
	    !selections_ok_or_reply(r, json_object_get(r->json, "selections"), true))
		return;
	const char *key;
	if (!handler_idem_key_or_reply(r, &key))
		return;
	const char *tenant = money_tenant(r);
	struct db_conn *c = req_db_or_reply(r, DB_BETTING, tenant);
	if (c == NULL)
		return;
	if (!money_idem_open_or_reply(r, c, key, NULL))
		return;
	struct event_out e;
	const char *field = NULL;
	switch (betting_event_create(c, tenant, r->json, &r->arena, &e, &field)) {
	case ST_OK:
		break;
	case ST_INVALID:
		db_rollback(c);
		reply_invalid_field(r, field);
		return;
	default:
		db_rollback(c);
		reply_db_failed(r, DB_BETTING);
		return;
	}
	char *location = arena_printf(&r->arena, "/v1/tenants/%s/events/%s", tenant, e.id);
	char *etag = handler_etag(r, e.version);
	if (!money_idem_close_or_reply(r, c, key, 201, e.json, location, etag))
		return;
	audit(r, tenant, "event.create", e.id);
	reply_event(r, 201, &e);
	reply_header(r, "Location", location);
}

static void list_events(struct request *r)
{
	struct event_filter f = {0};
	if (!validate_limit_or_reply(r, 20, 100, &f.limit) || !page_cursor_or_reply(r, &f.cursor) ||
	    !money_query_enum_or_reply(r, "status", all_status, &f.status))
		return;
	f.tenant_id = money_tenant(r);
	f.sport = req_query(r, "sport");
	f.starts_after = req_query(r, "starts_after");
	f.starts_before = req_query(r, "starts_before");
	if (f.sport && (strlen(f.sport) < 1 || strlen(f.sport) > 64)) {
		money_reply_bad_query(r, "sport", "must be 1 to 64 characters");
		return;
	}
	if (f.starts_after && !validate_rfc3339(f.starts_after)) {
		money_reply_bad_query(r, "starts_after", "must be an RFC 3339 date-time with a time zone");
		return;
	}
	if (f.starts_before && !validate_rfc3339(f.starts_before)) {
		money_reply_bad_query(r, "starts_before", "must be an RFC 3339 date-time with a time zone");
		return;
	}
	struct db_conn *c = req_db(r, DB_BETTING, f.tenant_id);
	char *page = NULL;
	if (c == NULL || betting_event_list(c, &f, &r->arena, &page) != ST_OK) {
		reply_db_unreachable(r, DB_BETTING);
		return;
	}
	reply_json_text(r, 200, page);
}

static void get_event(struct request *r)
{
	const char *id = r->params[1];
	if (!util_is_uuid(id)) {
		reply_not_found(r);
		return;
	}
	const char *tenant = money_tenant(r);
	struct db_conn *c = req_db_or_reply(r, DB_BETTING, tenant);
	if (c == NULL)
		return;
	struct event_out e;
	switch (betting_event_get(c, tenant, id, &r->arena, &e)) {
	case ST_OK:
		reply_event(r, 200, &e);
		return;
	case ST_NOT_FOUND:
		reply_not_found(r);
		return;
	default:
		reply_db_failed(r, DB_BETTING);
		return;
	}
}

static void patch_event(struct request *r)
{
	const char *id = r->params[1];
	if (!util_is_uuid(id)) {
		reply_not_found(r);
		return;
	}
	if (!validate_body_or_reply(r, r->json, patch_fields, NFIELDS(patch_fields), 1))
		return;
	json_t *sel = json_object_get(r->json, "selections");
	if (sel && !selections_ok_or_reply(r, sel, false))
		return;
	long long if_match;
	if (!handler_if_match_or_reply(r, &if_match))
		return;
	const char *tenant = money_tenant(r);
	struct db_conn *c = req_db_or_reply(r, DB_BETTING, tenant);
	if (c == NULL)
		return;
	struct event_out e;
	const char *field = NULL;
	switch (betting_event_update(c, tenant, id, r->json, if_match, &r->arena, &e, &field)) {
	case ST_OK:
		audit(r, tenant, "event.update", e.id);
		reply_event(r, 200, &e);
		return;
	case ST_NOT_FOUND:
		reply_not_found(r);
		return;
	case ST_FINAL:
		reply_status(r, ST_FINAL, DB_BETTING);
		return;
	case ST_PRECONDITION:
		reply_status(r, ST_PRECONDITION, DB_BETTING);
		return;
	case ST_INVALID:
		reply_invalid_field(r, field);
		return;
	default:
		reply_db_failed(r, DB_BETTING);
		return;
	}
}

/* result and cancel: end the event, queue its settlement, answer 202. */
static void finish_event(struct request *r, const char *status, const char *result)
{
	const char *id = r->params[1];
	if (!util_is_uuid(id)) {
		reply_not_found(r);
		return;
	}
	long long if_match;
	const char *key;
	if (!handler_if_match_or_reply(r, &if_match) || !handler_idem_key_or_reply(r, &key))
		return;
	const char *tenant = money_tenant(r);
	struct db_conn *c = req_db_or_reply(r, DB_BETTING, tenant);
	if (c == NULL)
		return;
	if (!money_idem_open_or_reply(r, c, key, NULL))
		return;
	struct event_out e;
	enum status st = betting_event_finish(c, tenant, id, status, result, if_match,
						      &r->arena, &e);
	if (st != ST_OK)
		db_rollback(c);
	switch (st) {
	case ST_OK:
		break;
	case ST_NOT_FOUND:
		reply_not_found(r);
		return;
	case ST_FINAL:
		reply_status(r, ST_FINAL, DB_BETTING);
		return;
	case ST_NO_SELECTION: {
		json_t *errors = NULL;
		problem_add_error(&errors, "winning_selection", "is not one of the event's selections");
		reply_problem(r, 422, "validation", "Unprocessable Content",
			      "The request body has invalid fields; see errors.", errors);
		return;
	}
	case ST_PRECONDITION:
		reply_status(r, ST_PRECONDITION, DB_BETTING);
		return;
	default:
		reply_db_failed(r, DB_BETTING);
		return;
	}
	char *etag = handler_etag(r, e.version);
	if (!money_idem_close_or_reply(r, c, key, 202, e.json, NULL, etag))
		return;

	const char *kind = strcmp(status, "settled") == 0 ? "event.settle" : "event.cancel";
	struct db_conn *portal = req_db(r, DB_PORTAL, tenant);
	json_t *payload = req_own_json(r, json_pack("{s:s}", "event_id", e.id));
	char job_id[37];
	if (portal == NULL || !jobs_enqueue(portal, kind, tenant, payload, r->request_id, job_id))
		log_warn("event %s: could not queue %s; reconciliation will settle it", e.id, kind);
	audit(r, tenant, strcmp(status, "settled") == 0 ? "event.result" : "event.cancel", e.id);
	reply_event(r, 202, &e);
}

static void post_result(struct request *r)
{
	if (!validate_body_or_reply(r, r->json, result_fields, NFIELDS(result_fields), 0))
		return;
	finish_event(r, "settled", json_string_value(json_object_get(r->json, "winning_selection")));
}

static void cancel_event(struct request *r)
{
	finish_event(r, "cancelled", NULL);
}

const struct route events_routes[] = {
	{HTTP_POST, "/v1/tenants/{tenant_id}/events", create_event, AUTH_REQUIRED, ROLE_TENANT_ADMIN, BODY_JSON, "events.create"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/events", list_events, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "events.list"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/events/{event_id}", get_event, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "events.get"},
	{HTTP_PATCH, "/v1/tenants/{tenant_id}/events/{event_id}", patch_event, AUTH_REQUIRED, ROLE_TENANT_ADMIN, BODY_JSON, "events.update"},
	{HTTP_POST, "/v1/tenants/{tenant_id}/events/{event_id}/result", post_result, AUTH_REQUIRED, ROLE_TENANT_ADMIN, BODY_JSON, "events.result"},
	{HTTP_POST, "/v1/tenants/{tenant_id}/events/{event_id}/cancel", cancel_event, AUTH_REQUIRED, ROLE_TENANT_ADMIN, BODY_NONE, "events.cancel"},
};
const size_t events_routes_len = sizeof(events_routes) / sizeof(events_routes[0]);

const struct body_table events_bodies[] = {
	{"events.create", create_fields, NFIELDS(create_fields), 0},
	{"events.update", patch_fields, NFIELDS(patch_fields), 1},
	{"events.result", result_fields, NFIELDS(result_fields), 0},
	{"events.selection", selection_fields, NFIELDS(selection_fields), 0},
};
const size_t events_bodies_len = sizeof(events_bodies) / sizeof(events_bodies[0]);
