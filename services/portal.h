/*
 * portal.h - the portal service's data (portal_db): tenants and the audit
 * log. Functions take a connection leased by the caller (already scoped for
 * RLS) and return JSON text built by PostgreSQL, copied into the arena.
 * They never build HTTP replies.
 */
#ifndef ATRIUM_PORTAL_H
#define ATRIUM_PORTAL_H

#include <jansson.h>
#include <stdbool.h>

#include "server/store/db.h"
#include "server/store/status.h"
#include "server/store/page.h"
#include "server/common/util.h"


/* Who did it, for the audit record. */
struct audit_ctx {
	const char *actor_tid;   /* "" for the system */
	const char *actor_oid;
	const char *request_id;
};

struct tenant_out {
	char *json;         /* arena */
	char id[37];
	long long version;
};

struct tenant_filter {
	const char *status;      /* NULL: all but deleted */
	const char *slug;
	const char *only_id;     /* restrict to one tenant (non super admins) */
	struct page_cursor cursor;
	int limit;
	bool member_view;        /* the member's view of each tenant */
};

struct audit_filter {
	const char *tenant_id;
	const char *action;
	const char *resource_type;
	struct page_cursor cursor;
	int limit;
};

void portal_register(void);

/* Maps an Entra directory to a live (not deleted) tenant. Leases its own
 * connection: it runs during authentication, before a request scope. */
enum status portal_tenant_by_directory(const char *tid, char tenant_id[37],
					      char status[16]);

/* The live (not deleted) tenant billed through a provider's account:
 * provider "quickbooks" (realm id) or "pax8" (company id). Leases its own
 * connection (the worker maps webhook events with it). */
enum status portal_tenant_by_billing_account(const char *provider, const char *account_id,
						    char tenant_id[37]);

/* Every live tenant with a Pax8 company id: [{tenant_id, company_id}]
 * (new reference), NULL on database failure. `c` is scoped "*". */
json_t *portal_pax8_companies(struct db_conn *c);
/* Connecting QuickBooks (issue 15): sets the tenant's quickbooks_realm_id
 * when it has none, on the caller's connection (scoped "*") and
 * transaction. ST_OK (*set says whether it changed), ST_CONFLICT when the
 * realm belongs to another tenant or the tenant has another realm,
 * ST_NOT_FOUND for an unknown or deleted tenant. */
enum status portal_tenant_claim_realm(struct db_conn *c, const char *tenant_id, const char *realm_id,
				      bool *set);

/* {"<id>": "<name>", …} (arena) of the tenants among `ids`, a JSON array of
 * uuids; ids of no tenant are left out. */
enum status portal_tenant_names(struct db_conn *c, const char *ids, struct arena *a, char **json);

/* Does tenant `id` exist (in any status)? Leases its own connection. */
enum status portal_tenant_exists(const char *id);

enum status portal_tenant_create(struct db_conn *c, json_t *in, const struct audit_ctx *a,
					struct arena *ar, struct tenant_out *out,
					const char **conflict);
/* full: every field; else the member's view (no directory, admin group
 * or billing ids). */
enum status portal_tenant_get(struct db_conn *c, const char *id, bool full,
				     struct arena *ar, struct tenant_out *out);
enum status portal_tenant_list(struct db_conn *c, const struct tenant_filter *f,
				      struct arena *ar, char **page);
/* if_match < 0: unconditional. */
enum status portal_tenant_update(struct db_conn *c, const char *id, json_t *patch,
					long long if_match, const struct audit_ctx *a,
					struct arena *ar, struct tenant_out *out,
					const char **conflict);
/*
 * Deleting a tenant, inside the caller's transaction. First lock it and
 * read what the deletion must wait for; then portal_tenant_delete() with
 * offboard_job NULL deletes it at once (no namespaces), or with the
 * TENANT_OFFBOARD job queued in the same transaction makes it `deleting`
 * until that job has deprovisioned its namespaces. Audited.
 */
struct tenant_deletion {
	char status[16];          /* active, suspended, deleting, deleted */
	int live_namespaces;      /* not deleted */
	char job_status[16];      /* its offboarding job's, "" when none */
};
enum status portal_tenant_delete_lock(struct db_conn *c, const char *id,
				      struct tenant_deletion *out);
enum status portal_tenant_delete(struct db_conn *c, const char *id, const char *offboard_job,
				 const struct audit_ctx *a, struct arena *ar, struct tenant_out *out);
/* The offboarding's end (its own connection): deleting -> deleted. */
bool portal_tenant_offboarded(const char *id, const char *request_id);
/* Deprovisions every namespace of a `deleting` tenant, then deletes it
 * (workers/tenant_jobs.c). Payload: {} (the job's tenant). */
#define TENANT_OFFBOARD "tenant.offboard"
/*
 * Writes one audit record. With c == NULL it leases its own portal_db
 * connection (for changes committed in another service's database); pass
 * the caller's connection to write it inside the caller's transaction.
 * changes (borrowed) may be NULL. actor_oid "" means the system.
 */
bool portal_audit_record(struct db_conn *c, const char *tenant_id, const struct audit_ctx *a,
			 const char *action, const char *resource_type, const char *resource_id,
			 json_t *changes);

/* A job of the tenant, as JSON text (arena). */
enum status portal_job_get(struct db_conn *c, const char *tenant_id, const char *id,
				  struct arena *ar, char **json);
enum status portal_audit_list(struct db_conn *c, const struct audit_filter *f,
				     struct arena *ar, char **page);

#endif
