/*
 * namespaces.h - the namespaces of the portal service (portal_db): a
 * tenant's environments and the state of their Azure infrastructure.
 *
 * Two kinds of callers:
 *   - handlers (handlers/namespaces.c), on the request's leased connection
 *     (already scoped for RLS), get JSON text built by PostgreSQL, copied
 *     into the request arena;
 *   - the worker's job steps (workers/namespace_jobs.c), which lease their
 *     own connection per call (scope "*") and move the namespace through
 *     its statuses, each move guarded by the job that owns it (job_id), so
 *     a stale job can never overwrite a newer one's state.
 * Every status change writes its audit record in the same statement.
 * Never builds HTTP replies.
 */
#ifndef ATRIUM_NAMESPACES_H
#define ATRIUM_NAMESPACES_H

#include <jansson.h>
#include <stdbool.h>

#include "server/store/db.h"
#include "server/store/page.h"
#include "services/portal.h"
#include "server/common/util.h"

/* Azure names of a namespace, fixed at creation. */
#define NS_KEY_MAX 55         /* <key>-backups is a valid container name */
#define NS_NCONTAINERS 3
extern const char *const namespaces_container_suffixes[NS_NCONTAINERS]; /* uploads, logs, backups */

/* The platform's namespace sizes (services/namespaces.c): one table. */
#define NS_NSIZES 3
struct ns_size {
	const char *name;                       /* small, medium, large */
	const char *cpu_request, *cpu_limit;    /* Kubernetes quantities */
	const char *memory_request, *memory_limit;
	int pods;
	const char *egress;                     /* AllowAll | AllowSameNamespace | DenyAll */
};
extern const struct ns_size namespaces_sizes[NS_NSIZES];
/* The size named `name`, or NULL. */
const struct ns_size *namespaces_size(const char *name);
/*
 * Ingress of every namespace: from its own namespace only. Traffic from the
 * ingress controller is not let in by this: defaultNetworkPolicy takes only
 * AllowAll | AllowSameNamespace | DenyAll (arm.h), so an exception for the
 * controller's namespace needs a NetworkPolicy object inside the cluster,
 * which ARM does not apply. Until then workloads are reached through
 * services of type LoadBalancer or from their own namespace.
 */
#define NS_INGRESS "AllowSameNamespace"
/* Never take over a Kubernetes namespace Atrium did not create; so the
 * managed namespace is always Atrium's, and deleting it is safe. */
#define NS_ADOPTION_POLICY "Never"
#define NS_DELETE_POLICY "Delete"
/* {quota: {cpu_request, cpu_limit, memory_request, memory_limit, pods},
 * network_policy: {ingress, egress}} of a size (new reference). */
json_t *namespaces_size_json(const struct ns_size *z);
/* The namespace's `kubernetes` object: the size's part plus cluster_id,
 * namespace, adoption_policy, delete_policy (new reference). */
json_t *namespaces_kubernetes_json(const char *cluster_id, const char *k8s_name,
				   const struct ns_size *z);

struct ns_names {
	char key[NS_KEY_MAX + 1];               /* "<slug>-<name>", or shortened + hash */
	char resource_group[NS_KEY_MAX + 8];     /* "atrium-<key>" */
	char containers[NS_NCONTAINERS][64];     /* "<key>-uploads", ... */
};

/*
 * Derives the Azure names. Plain form: key = "<slug>-<name>" when that is
 * a valid container prefix (at most 55 characters, no "--"). Otherwise, or
 * with `hashed`, key = the first characters of it (hyphen runs collapsed)
 * + "-" + 8 hex digits of SHA-256("<tenant_id>/<name>"), unique per tenant
 * and name. The caller falls back to `hashed` when the plain names are
 * already taken by another tenant's namespace.
 */
void namespaces_names(const char *slug, const char *name, const char *tenant_id, bool hashed,
		      struct ns_names *out);

struct ns_out {
	char *json;          /* arena */
	char id[37];
	char status[24];
	char job_id[37];     /* "" when none */
	long long version;
};

struct ns_filter {
	const char *tenant_id;
	const char *status;       /* NULL: all but deleted */
	const char *environment;
	const char *name;
	struct page_cursor cursor;
	int limit;
};

void namespaces_register(void);

/* Namespaces in each live state (platform-wide, for /metrics): fills up to
 * max rows, returns their number, -1 when portal_db is unreachable. */
struct ns_state_count {
	char state[24];
	long long count;
};
int namespaces_count_by_state(struct ns_state_count *out, int max);

/* Inside a transaction: locks the tenant's row (so concurrent creations
 * are counted one after another) and reads its slug and status (for
 * naming, and to refuse deleted tenants), its own namespace quota (-1 when
 * it has none) and how many namespaces it has that are not deleted. */
enum status namespaces_tenant_lock(struct db_conn *c, const char *tenant_id, char slug[64],
				   char status[16], int *live, int *quota);

/*
 * Inserts a namespace in `status` (pending, or pending_approval with
 * job_id NULL) with id `id` (made by the caller, who has queued its job
 * `job_id` in the same transaction) and its audit record. `in` is the
 * validated body; `kubernetes` (borrowed, NULL without a cluster) its
 * Kubernetes namespace. ST_CONFLICT with *conflict = "name" when
 * the tenant has a live namespace of that name, "resource_group" when the
 * Azure names are taken (retry with hashed names).
 */
enum status namespaces_create(struct db_conn *c, const char *tenant_id, const char *id,
				     json_t *in, const struct ns_names *names, const char *job_id,
				     const char *status, const char *size, json_t *kubernetes,
				     const struct audit_ctx *a, struct arena *ar, struct ns_out *out,
				     const char **conflict);

/* One namespace by id (key_is_id) or name; by name, a live one is
 * preferred over deleted ones of the same name. */
enum status namespaces_get(struct db_conn *c, const char *tenant_id, const char *key,
				  bool key_is_id, struct arena *ar, struct ns_out *out);
enum status namespaces_list(struct db_conn *c, const struct ns_filter *f, struct arena *ar,
				   char **page);

/* Locks the live namespace (FOR UPDATE, inside the caller's transaction)
 * for a deletion. ST_NOT_FOUND when none (or only deleted ones). */
enum status namespaces_lock(struct db_conn *c, const char *tenant_id, const char *key,
				   bool key_is_id, struct arena *ar, struct ns_out *out);
/* Moves a locked namespace to deprovisioning under job `job_id`, with its
 * audit record; `canceled_job` ("" when none) is the provision job the
 * deletion canceled. */
enum status namespaces_deprovision(struct db_conn *c, const char *id, const char *job_id,
					  const char *canceled_job, const struct audit_ctx *a,
					  struct arena *ar, struct ns_out *out);

/*
 * Starts the deletion of namespace *n, locked by namespaces_lock() in the
 * caller's transaction (the DELETE of the API, a tenant's offboarding, a
 * dev namespace's expiry): pending_approval or rejected ones are deleted
 * at once (nothing was made in Azure); a provision job still queued is
 * canceled; then a NAMESPACE_DEPROVISION job is queued and the namespace
 * moves to deprovisioning. NS_DELETE_BUSY (nothing changed) while a
 * provision or update runs now; NS_DELETE_ALREADY when it is being
 * deleted. *n is the namespace after. The caller commits.
 */
enum ns_delete {
	NS_DELETE_QUEUED,
	NS_DELETE_DISCARDED,
	NS_DELETE_ALREADY,
	NS_DELETE_BUSY,
	NS_DELETE_FAILED,
};
enum ns_delete namespaces_delete_begin(struct db_conn *c, const char *tenant_id,
				      const struct audit_ctx *a, struct arena *ar, struct ns_out *n);

/*
 * A super admin's decision on a namespace in pending_approval (locked by
 * the caller): approve -> pending under provision job `job_id` (queued in
 * the same transaction); reject -> rejected. `reason` may be NULL for an
 * approval. With its audit record. ST_NOT_FOUND when it is not waiting.
 */
enum status namespaces_decide(struct db_conn *c, const char *id, bool approve, const char *reason,
			      const char *job_id, const struct audit_ctx *a, struct arena *ar,
			      struct ns_out *out);
/* pending_approval or rejected -> deleted at once (nothing in Azure). */
enum status namespaces_discard(struct db_conn *c, const char *id, const struct audit_ctx *a,
			       struct arena *ar, struct ns_out *out);
/* Sets the size (and its Kubernetes quota and policy). With `job_id`
 * (an update job queued in the same transaction) the namespace moves to
 * updating under it; NULL leaves the status alone. */
enum status namespaces_resize(struct db_conn *c, const char *id, const struct ns_size *z,
			      const char *job_id, const struct audit_ctx *a, struct arena *ar,
			      struct ns_out *out);

/* Expiry of dev namespaces. ST_OK when `ts` (RFC 3339) is in the future
 * and at most 30 days ahead, ST_INVALID when not. */
enum status namespaces_expiry_check(struct db_conn *c, const char *ts);
/* Sets (or, ts NULL, clears) the locked namespace's expires_at; audited. */
enum status namespaces_set_expiry(struct db_conn *c, const char *id, const char *ts,
				  const struct audit_ctx *a, struct arena *ar, struct ns_out *out);

/* ---- for the worker's job steps (each leases its own connection) ---- */

struct ns_work {
	char id[37], tenant_id[37], name[64], environment[16], location[48];
	char status[24], job_id[37];
	char resource_group[NS_KEY_MAX + 8];
	char containers[NS_NCONTAINERS][64];
	int ncontainers;
	char tenant_slug[64];
	char admin_group[37];    /* "" when the tenant has none */
	char members_group[37];  /* "" when the tenant has none */
	char size[16];
	char k8s_cluster_id[512]; /* "" when the namespace has no Kubernetes namespace */
	char k8s_namespace[64];
	json_t *tags;            /* Azure tags for the resource group; owned */
};

/* Loads a namespace and what its jobs need of its tenant. */
enum status namespaces_work_load(const char *id, struct ns_work *out);
void namespaces_work_free(struct ns_work *w);
/* pending -> provisioning (with audit) when `job_id` owns it; true if it
 * owns it (pending, provisioning or updating; whether or not the status
 * moved). */
bool namespaces_work_start(const char *id, const char *job_id, const char *request_id);
/* Merges `patch` (borrowed) into resources. */
bool namespaces_work_resources(const char *id, const char *job_id, json_t *patch);
/* Shows the latest Azure error (borrowed; NULL clears it). */
bool namespaces_work_error(const char *id, const char *job_id, json_t *error);
/*
 * Ends the job's work on the namespace: status `to` (ready, failed,
 * deleted) if its status is one of `from` ("{a,b}"), last_error = error
 * (borrowed, may be NULL), audit action `action`. True when it moved.
 */
bool namespaces_work_finish(const char *id, const char *job_id, const char *from, const char *to,
			    json_t *error, const char *action, const char *request_id);

/*
 * Drift repair. Up to `max` ids of ready or degraded namespaces not
 * re-read for about `interval_s` (75-100% of it, spread per namespace) into
 * ids; the count, -1 on database failure.
 */
int namespaces_reconcile_due(int interval_s, int max, char (*ids)[37]);
/*
 * Records one repair: last_reconciled_at = now; ok resets the failure
 * count (degraded -> ready), a failure counts one more and shows `error`
 * (borrowed) in last_error; `degrade_after` failures in a row make it
 * degraded. `repaired` (borrowed array) names what was put back. Audited
 * (namespace.repaired, .degraded, .recovered) when something changed.
 * False when the namespace is no longer ready or degraded. *status is its
 * status after.
 */
bool namespaces_reconciled(const char *id, bool ok, json_t *repaired, json_t *error,
			   int degrade_after, const char *request_id, char status[24]);

/* The job kinds that build and tear down a namespace's infrastructure
 * (workers/namespace_jobs.c); handlers queue them by these names. */
#define NAMESPACE_PROVISION "namespace.provision"
#define NAMESPACE_DEPROVISION "namespace.deprovision"
/* Applies a new size to a ready namespace: the provisioning steps again,
 * each an idempotent create-or-update. */
#define NAMESPACE_UPDATE "namespace.update"
/* Periodic, platform-wide: re-reads ready namespaces and repairs drift. */
#define NAMESPACE_RECONCILE "namespace.reconcile"
/* Makes a ready namespace's role assignment name the tenant's current
 * admin group, after aad_admin_group_id changed. */
#define NAMESPACE_REGRANT "namespace.regrant"

/*
 * One pass of a tenant's offboarding (its own connection): starts the
 * deletion of each of the tenant's namespaces that is not being deleted
 * (namespaces_delete_begin(), audited as the system), one transaction
 * each; a namespace whose provisioning runs now is left for the next
 * pass. Then counts those not yet deleted. False on database failure.
 */
struct ns_offboard {
	int remaining;   /* not deleted after this pass */
	int queued;      /* deletions started by this pass */
	int busy;        /* being provisioned or updated: the next pass */
};
bool namespaces_offboard_pass(const char *tenant_id, const char *request_id,
			      struct ns_offboard *out);

/*
 * Starts the deletion of up to `max` dev namespaces whose expires_at has
 * passed (its own connection; namespaces_delete_begin() as the system, with
 * a namespace.expired audit record). Ones still being provisioned wait for
 * the next run. Returns how many started, -1 when portal_db failed.
 */
int namespaces_expire_due(const char *request_id, int max);

/*
 * On the caller's portal_db connection and transaction: queues a
 * NAMESPACE_REGRANT job for every namespace of the tenant that is not
 * deleted, failed or being deleted. *queued says how many. False on
 * database failure.
 */
bool namespaces_queue_regrant(struct db_conn *c, const char *tenant_id, const char *request_id,
			      int *queued);

#endif
