/*
 * namespace_jobs.c - provisioning and deprovisioning steps. See
 * namespace_jobs.h.
 *
 * Every step starts by loading the namespace and checking that this job
 * still owns it (namespaces.job_id) in the status it expects: a job that
 * was superseded (its namespace deleted meanwhile) fails without touching
 * Azure. A step that fails shows the Azure error on the namespace at once
 * (last_error), even while the job will retry; the runtime keeps it on
 * the job too.
 */
#include "workers/namespace_jobs.h"
#include "server/outbound/arm.h"
#include "server/outbound/blob.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "services/namespaces.h"
#include "server/outbound/outbound.h"
#include "server/common/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a step works on: the namespace, and the outbound context. */
struct step_ctx {
	struct ns_work ns;
	struct outbound_ctx out;
};

static bool stopping(void)
{
	return jobs_stopping();
}

/*
 * Loads the namespace of job j into s and checks the job owns it in one
 * of `statuses` ("a,b"). JOB_OK to go on; otherwise the step's verdict.
 */
static enum job_result begin(struct job *j, const char *statuses, struct step_ctx *s)
{
	memset(s, 0, sizeof(*s));
	s->out.request_id = j->request_id;
	s->out.stopping = stopping;
	const char *id = json_string_value(json_object_get(j->payload, "namespace_id"));
	if (id == NULL || !util_is_uuid(id)) {
		job_error(j, "InvalidPayload", "the job has no namespace_id");
		return JOB_FAIL;
	}
	switch (namespaces_work_load(id, &s->ns)) {
	case ST_OK:
		break;
	case ST_NOT_FOUND:
		job_error(j, "NamespaceNotFound", "the namespace of this job does not exist");
		return JOB_FAIL;
	default:
		job_error(j, "DatabaseUnavailable", "portal_db is unreachable");
		return JOB_RETRY;
	}
	char want[64];
	snprintf(want, sizeof(want), ",%s,", statuses);
	char have[32];
	snprintf(have, sizeof(have), ",%s,", s->ns.status);
	if (strcmp(s->ns.job_id, j->id) != 0 || strstr(want, have) == NULL) {
		job_error(j, "Superseded",
			  "the namespace is no longer this job's to change (it was deleted or re-queued)");
		return JOB_FAIL;
	}
	return JOB_OK;
}

/* Maps a call's result onto the step's verdict; shows failures on the
 * namespace. */
static enum job_result verdict(struct job *j, struct step_ctx *s, struct outbound_result *r)
{
	if (r->cls == OUT_OK)
		return JOB_OK;
	job_error(j, r->code, r->message);
	if (r->cls == OUT_RETRY) {
		j->retry_after_ms = r->retry_after_ms;
		namespaces_work_error(s->ns.id, j->id, j->error);
		return JOB_RETRY;
	}
	return JOB_FAIL; /* on_failed shows it on the namespace */
}

static void end(struct step_ctx *s, struct outbound_result *r)
{
	namespaces_work_free(&s->ns);
	outbound_result_clear(r);
}

/* ---- provision ------------------------------------------------------------ */

/* The statuses a provision or update job works in (after its first step). */
#define WORKING "provisioning,updating"

/* The tenant admin group's role assignments of a namespace: on its resource
 * group, and on its Kubernetes namespace. Made by provisioning, put back by
 * drift repair, moved to a new group by regrant. */
struct regrant_target {
	const char *role;          /* role definition GUID */
	bool aks;                  /* on the managed namespace, else on the resource group */
	bool members;              /* the members group's (dev only), else the admin group's */
	const char *role_name;
	const char *description;
};

static const struct regrant_target regrant_group = {
	ARM_ROLE_CONTRIBUTOR, false, false, "Contributor",
	"Atrium: the tenant's admin group manages its namespace",
};
static const struct regrant_target regrant_aks = {
	ARM_ROLE_AKS_RBAC_ADMIN, true, false, "Azure Kubernetes Service RBAC Admin",
	"Atrium: the tenant's admin group administers its Kubernetes namespace",
};
/* Members work in dev namespaces only: "Azure Kubernetes Service RBAC
 * Writer" (read/write of most namespaced objects, no roles or quotas). */
static const struct regrant_target regrant_members = {
	ARM_ROLE_AKS_RBAC_WRITER, true, true, "Azure Kubernetes Service RBAC Writer",
	"Atrium: the tenant's members group works in its dev Kubernetes namespace",
};

/* The group an assignment of `t` names for namespace `ns`: NULL when there
 * is none (no such group, or members outside dev). */
static const char *target_principal(const struct ns_work *ns, const struct regrant_target *t)
{
	if (t->members)
		return strcmp(ns->environment, "dev") == 0 && ns->members_group[0] ? ns->members_group : NULL;
	return ns->admin_group[0] ? ns->admin_group : NULL;
}

/* The resources patch naming the assignment `id` (NULL: none any more). */
static json_t *regrant_patch(const struct regrant_target *t, const char *id)
{
	if (t->members)
		return json_pack("{s:s?}", "aks_members_role_assignment_id", id);
	if (t->aks)
		return id ? json_pack("{s:[s]}", "aks_role_assignment_ids", id)
			  : json_pack("{s:[]}", "aks_role_assignment_ids");
	return json_pack("{s:s?}", "role_assignment_id", id);
}

static enum job_result provision_resource_group(struct job *j)
{
	struct step_ctx s;
	struct outbound_result r = {0};
	enum job_result res = begin(j, "pending,provisioning,updating", &s);
	if (res != JOB_OK)
		goto cleanup;
	namespaces_work_start(s.ns.id, j->id, j->request_id);
	arm_resource_group_put(&s.out, s.ns.resource_group, s.ns.location, s.ns.tags, &r);
	res = verdict(j, &s, &r);
	if (res != JOB_OK)
		goto cleanup;
	const char *id = json_string_value(json_object_get(r.body, "id"));
	char *fallback = arm_resource_group_id(s.ns.resource_group);
	j->output = json_pack("{s:s, s:s, s:s}", "id", id ? id : fallback, "name",
			      s.ns.resource_group, "location", s.ns.location);
	free(fallback);
	json_t *patch = json_pack("{s:O}", "resource_group_id", json_object_get(j->output, "id"));
	namespaces_work_resources(s.ns.id, j->id, patch);
	json_decref(patch);
cleanup:
	end(&s, &r);
	return res;
}

static enum job_result provision_role_assignment(struct job *j)
{
	struct step_ctx s;
	struct outbound_result r = {0};
	enum job_result res = begin(j, WORKING, &s);
	if (res != JOB_OK)
		goto cleanup;
	if (s.ns.admin_group[0] == '\0') {
		/* Nothing to grant: say so in the step's output. */
		j->output = json_pack("{s:b, s:s}", "skipped", 1, "reason",
				      "the tenant has no aad_admin_group_id; setting it grants the "
				      "group Contributor (a namespace.regrant job)");
		goto cleanup;
	}
	char guid[37];
	arm_role_assignment_guid(s.ns.tenant_id, s.ns.name, ARM_ROLE_CONTRIBUTOR, guid);
	arm_role_assignment_put(&s.out, s.ns.resource_group, guid, ARM_ROLE_CONTRIBUTOR,
				s.ns.admin_group, &r);
	res = verdict(j, &s, &r);
	if (res != JOB_OK)
		goto cleanup;
	const char *id = json_string_value(json_object_get(r.body, "id"));
	char *fallback = arm_role_assignment_id(s.ns.resource_group, guid);
	j->output = json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", id ? id : fallback, "name", guid,
			      "principal_id", s.ns.admin_group, "role", "Contributor", "already_existed",
			      r.already);
	free(fallback);
	json_t *patch = json_pack("{s:O}", "role_assignment_id", json_object_get(j->output, "id"));
	namespaces_work_resources(s.ns.id, j->id, patch);
	json_decref(patch);
cleanup:
	end(&s, &r);
	return res;
}

static enum job_result provision_containers(struct job *j)
{
	struct step_ctx s;
	struct outbound_result r = {0};
	enum job_result res = begin(j, WORKING, &s);
	if (res != JOB_OK)
		goto cleanup;
	json_t *names = json_array();
	for (int i = 0; i < s.ns.ncontainers && res == JOB_OK; i++) {
		blob_container_create(&s.out, s.ns.containers[i], &r);
		res = verdict(j, &s, &r);
		if (res == JOB_OK)
			json_array_append_new(names, json_string(s.ns.containers[i]));
		outbound_result_clear(&r);
	}
	if (res == JOB_OK) {
		j->output = json_pack("{s:O}", "containers", names);
		namespaces_work_resources(s.ns.id, j->id, j->output);
	}
	json_decref(names);
cleanup:
	end(&s, &r);
	return res;
}


/* ---- the Kubernetes namespace (AKS managed namespace) ------------------------ */

/* True when the managed namespace `mn` (ARM's JSON) carries the label
 * that says it is this Atrium namespace's. */
static bool aks_owned(json_t *mn, const char *id)
{
	json_t *labels = json_object_get(json_object_get(mn, "properties"), "labels");
	const char *v = json_string_value(json_object_get(labels, "atrium.dev/namespace-id"));
	return v && strcasecmp(v, id) == 0;
}

/*
 * Reads the managed namespace: *exists and *owned. JOB_OK when known;
 * otherwise the step's verdict (r holds the failure).
 */
static enum job_result aks_probe(struct job *j, struct step_ctx *s, struct outbound_result *r,
				 bool *exists, bool *owned)
{
	arm_managed_namespace_get(&s->out, s->ns.k8s_cluster_id, s->ns.k8s_namespace, r);
	*exists = r->cls == OUT_OK;
	*owned = *exists && aks_owned(r->body, s->ns.id);
	if (!*exists && r->status != 404)
		return verdict(j, s, r);
	outbound_result_clear(r);
	return JOB_OK;
}

/*
 * PUT the managed namespace of s->ns at size z (the cluster's location
 * read first). The verdict is in r.
 */
static void aks_put(struct step_ctx *s, const struct ns_size *z, struct outbound_result *r)
{
	arm_managed_cluster_get(&s->out, s->ns.k8s_cluster_id, r);
	if (r->cls != OUT_OK)
		return;
	const char *loc = json_string_value(json_object_get(r->body, "location"));
	if (loc == NULL) {
		outbound_result_set(r, OUT_PERMANENT, "ClusterLocationMissing",
				    "ARM's answer for the cluster has no location");
		return;
	}
	char *location = xstrdup(loc);
	outbound_result_clear(r);
	json_t *labels = json_pack("{s:s, s:s, s:s, s:s, s:s}", "atrium.dev/tenant", s->ns.tenant_slug,
				   "atrium.dev/namespace", s->ns.name, "atrium.dev/environment",
				   s->ns.environment, "atrium.dev/namespace-id", s->ns.id,
				   "app.kubernetes.io/managed-by", "atrium");
	char pods[16];
	snprintf(pods, sizeof(pods), "%d", z->pods);
	json_t *annotations = json_pack("{s:s, s:s, s:s}", "atrium.dev/size", z->name,
					"atrium.dev/max-pods", pods, "atrium.dev/tenant-id",
					s->ns.tenant_id);
	struct arm_managed_namespace m = {
		.name = s->ns.k8s_namespace, .location = location, .labels = labels,
		.annotations = annotations, .cpu_request = z->cpu_request, .cpu_limit = z->cpu_limit,
		.memory_request = z->memory_request, .memory_limit = z->memory_limit,
		.ingress = NS_INGRESS, .egress = z->egress, .adoption_policy = NS_ADOPTION_POLICY,
		.delete_policy = NS_DELETE_POLICY,
	};
	arm_managed_namespace_put(&s->out, s->ns.k8s_cluster_id, &m, r);
	json_decref(labels);
	json_decref(annotations);
	free(location);
}

static json_t *aks_skipped(void)
{
	return json_pack("{s:b, s:s}", "skipped", 1, "reason",
			 "the namespace has no Kubernetes namespace (no ATRIUM_AKS_CLUSTER_ID when it was "
			 "created)");
}

/*
 * PUT the managed namespace with the size's quota and policies. A managed
 * namespace of that name that is not this namespace's (no matching
 * atrium.dev/namespace-id label) is never touched: the job fails. A
 * Kubernetes namespace that ARM does not manage is never adopted
 * (adoptionPolicy Never: ARM refuses the PUT).
 */
static enum job_result provision_aks_namespace(struct job *j)
{
	struct step_ctx s;
	struct outbound_result r = {0};
	enum job_result res = begin(j, WORKING, &s);
	if (res != JOB_OK)
		goto cleanup;
	if (s.ns.k8s_cluster_id[0] == '\0') {
		j->output = aks_skipped();
		goto cleanup;
	}
	const struct ns_size *z = namespaces_size(s.ns.size);
	if (z == NULL) {
		job_error(j, "InvalidSize", "the namespace's size is not in the platform's size table");
		res = JOB_FAIL;
		goto cleanup;
	}
	bool exists, owned;
	res = aks_probe(j, &s, &r, &exists, &owned);
	if (res != JOB_OK)
		goto cleanup;
	if (exists && !owned) {
		job_error(j, "NamespaceNotOwned",
			  "a managed namespace of this name exists in the cluster and was not created "
			  "for this namespace; Atrium does not take it over");
		res = JOB_FAIL;
		goto cleanup;
	}
	aks_put(&s, z, &r);
	res = verdict(j, &s, &r);
	if (res != JOB_OK)
		goto cleanup;
	char *id = arm_managed_namespace_id(s.ns.k8s_cluster_id, s.ns.k8s_namespace);
	j->output = json_pack("{s:s, s:s, s:s, s:b}", "id", id, "namespace", s.ns.k8s_namespace,
			      "size", z->name, "updated", exists);
	free(id);
	json_t *patch = json_pack("{s:O}", "managed_namespace_id", json_object_get(j->output, "id"));
	namespaces_work_resources(s.ns.id, j->id, patch);
	json_decref(patch);
cleanup:
	end(&s, &r);
	return res;
}

/*
 * The tenant's admin group gets "Azure Kubernetes Service RBAC Admin" on
 * the managed namespace and, in a dev namespace, its members group "Azure
 * Kubernetes Service RBAC Writer" (deterministic assignment names, as the
 * resource group's). A tenant without such a group gets no assignment for
 * it; the output says so.
 */
static enum job_result provision_aks_role_assignments(struct job *j)
{
	struct step_ctx s;
	struct outbound_result r = {0};
	enum job_result res = begin(j, WORKING, &s);
	if (res != JOB_OK)
		goto cleanup;
	if (s.ns.k8s_cluster_id[0] == '\0') {
		j->output = aks_skipped();
		goto cleanup;
	}
	char *scope = arm_managed_namespace_id(s.ns.k8s_cluster_id, s.ns.k8s_namespace);
	json_t *made = json_array(), *none = json_array();
	const struct regrant_target *targets[] = {&regrant_aks, &regrant_members};
	for (size_t i = 0; i < 2 && res == JOB_OK; i++) {
		const struct regrant_target *t = targets[i];
		if (t->members && strcmp(s.ns.environment, "dev") != 0)
			continue; /* members work in dev namespaces only */
		const char *principal = target_principal(&s.ns, t);
		if (principal == NULL) {
			json_array_append_new(none, json_string(t->members ? "aad_members_group_id"
									  : "aad_admin_group_id"));
			continue;
		}
		char guid[37];
		arm_role_assignment_guid(s.ns.tenant_id, s.ns.name, t->role, guid);
		outbound_result_clear(&r);
		arm_scoped_role_assignment_put(&s.out, scope, guid, t->role, principal, t->description, &r);
		res = verdict(j, &s, &r);
		if (res != JOB_OK)
			break;
		const char *id = json_string_value(json_object_get(r.body, "id"));
		json_array_append_new(made, json_pack("{s:s?, s:s, s:s, s:s}", "id", id, "name", guid,
						      "principal_id", principal, "role", t->role_name));
		json_t *patch = regrant_patch(t, id);
		namespaces_work_resources(s.ns.id, j->id, patch);
		json_decref(patch);
	}
	free(scope);
	if (res == JOB_OK)
		j->output = json_pack("{s:o, s:o}", "assignments", made, "tenant_has_no", none);
	else {
		json_decref(made);
		json_decref(none);
	}
cleanup:
	end(&s, &r);
	return res;
}

static enum job_result deprovision_aks_role_assignments(struct job *j)
{
	struct step_ctx s;
	struct outbound_result r = {0};
	enum job_result res = begin(j, "deprovisioning", &s);
	if (res != JOB_OK)
		goto cleanup;
	if (s.ns.k8s_cluster_id[0] == '\0') {
		j->output = aks_skipped();
		goto cleanup;
	}
	/* Both, whatever the groups are now: one made under an earlier group
	 * or environment must go too (a missing one is already gone). */
	char *scope = arm_managed_namespace_id(s.ns.k8s_cluster_id, s.ns.k8s_namespace);
	json_t *gone = json_array();
	const struct regrant_target *targets[] = {&regrant_aks, &regrant_members};
	for (size_t i = 0; i < 2 && res == JOB_OK; i++) {
		char guid[37];
		arm_role_assignment_guid(s.ns.tenant_id, s.ns.name, targets[i]->role, guid);
		outbound_result_clear(&r);
		arm_scoped_role_assignment_delete(&s.out, scope, guid, &r);
		res = verdict(j, &s, &r);
		if (res == JOB_OK) {
			json_array_append_new(gone, json_pack("{s:s, s:b}", "name", guid, "already_gone",
							      r.already));
			json_t *patch = regrant_patch(targets[i], NULL);
			namespaces_work_resources(s.ns.id, j->id, patch);
			json_decref(patch);
		}
	}
	free(scope);
	if (res == JOB_OK)
		j->output = json_pack("{s:o}", "assignments", gone);
	else
		json_decref(gone);
cleanup:
	end(&s, &r);
	return res;
}

/* Deletes the managed namespace only when it is this namespace's. */
static enum job_result deprovision_aks_namespace(struct job *j)
{
	struct step_ctx s;
	struct outbound_result r = {0};
	enum job_result res = begin(j, "deprovisioning", &s);
	if (res != JOB_OK)
		goto cleanup;
	if (s.ns.k8s_cluster_id[0] == '\0') {
		j->output = aks_skipped();
		goto cleanup;
	}
	bool exists, owned;
	res = aks_probe(j, &s, &r, &exists, &owned);
	if (res != JOB_OK)
		goto cleanup;
	if (exists && !owned) {
		j->output = json_pack("{s:b, s:s}", "kept", 1, "reason",
				      "the managed namespace of this name is not this namespace's");
	} else if (exists) {
		arm_managed_namespace_delete(&s.out, s.ns.k8s_cluster_id, s.ns.k8s_namespace, &r);
		res = verdict(j, &s, &r);
		if (res != JOB_OK)
			goto cleanup;
		j->output = json_pack("{s:s, s:b}", "namespace", s.ns.k8s_namespace, "already_gone",
				      r.already);
	} else {
		j->output = json_pack("{s:s, s:b}", "namespace", s.ns.k8s_namespace, "already_gone", 1);
	}
	json_t *patch = json_pack("{s:n}", "managed_namespace_id");
	namespaces_work_resources(s.ns.id, j->id, patch);
	json_decref(patch);
cleanup:
	end(&s, &r);
	return res;
}

static void provision_succeeded(struct job *j)
{
	const char *id = json_string_value(json_object_get(j->payload, "namespace_id"));
	if (id)
		namespaces_work_finish(id, j->id, "{provisioning,updating}", "ready", NULL,
				       "namespace.ready", j->request_id);
}

static void provision_failed(struct job *j)
{
	const char *id = json_string_value(json_object_get(j->payload, "namespace_id"));
	if (id)
		namespaces_work_finish(id, j->id, "{pending,provisioning,updating}", "failed", j->error,
				       "namespace.failed", j->request_id);
}

static const struct job_step provision_steps[] = {
	{"resource_group", provision_resource_group},
	{"role_assignment", provision_role_assignment},
	{"containers", provision_containers},
	{"aks_namespace", provision_aks_namespace},
	{"aks_role_assignments", provision_aks_role_assignments},
};

const struct job_kind namespace_provision_kind = {
	NAMESPACE_PROVISION, provision_steps, sizeof(provision_steps) / sizeof(provision_steps[0]),
	8, provision_failed, provision_succeeded,
};

/* A new size: the same steps, each a create-or-update of what exists. */
const struct job_kind namespace_update_kind = {
	NAMESPACE_UPDATE, provision_steps, sizeof(provision_steps) / sizeof(provision_steps[0]),
	8, provision_failed, provision_succeeded,
};

/* ---- deprovision ------------------------------------------------------------ */

static enum job_result deprovision_containers(struct job *j)
{
	struct step_ctx s;
	struct outbound_result r = {0};
	enum job_result res = begin(j, "deprovisioning", &s);
	if (res != JOB_OK)
		goto cleanup;
	json_t *gone = json_array();
	for (int i = 0; i < s.ns.ncontainers && res == JOB_OK; i++) {
		blob_container_delete(&s.out, s.ns.containers[i], &r);
		res = verdict(j, &s, &r);
		if (res == JOB_OK)
			json_array_append_new(gone, json_string(s.ns.containers[i]));
		outbound_result_clear(&r);
	}
	if (res == JOB_OK) {
		j->output = json_pack("{s:O}", "deleted", gone);
		json_t *patch = json_pack("{s:[]}", "containers");
		namespaces_work_resources(s.ns.id, j->id, patch);
		json_decref(patch);
	}
	json_decref(gone);
cleanup:
	end(&s, &r);
	return res;
}

static enum job_result deprovision_resource_group(struct job *j)
{
	struct step_ctx s;
	struct outbound_result r = {0};
	enum job_result res = begin(j, "deprovisioning", &s);
	if (res != JOB_OK)
		goto cleanup;
	arm_resource_group_delete(&s.out, s.ns.resource_group, &r);
	res = verdict(j, &s, &r);
	if (res != JOB_OK)
		goto cleanup;
	char *id = arm_resource_group_id(s.ns.resource_group);
	j->output = json_pack("{s:s, s:b}", "id", id, "already_gone", r.already);
	free(id);
	json_t *patch = json_pack("{s:n, s:n}", "resource_group_id", "role_assignment_id");
	namespaces_work_resources(s.ns.id, j->id, patch);
	json_decref(patch);
cleanup:
	end(&s, &r);
	return res;
}

static void deprovision_succeeded(struct job *j)
{
	const char *id = json_string_value(json_object_get(j->payload, "namespace_id"));
	if (id)
		namespaces_work_finish(id, j->id, "{deprovisioning}", "deleted", NULL,
				       "namespace.deleted", j->request_id);
}

static void deprovision_failed(struct job *j)
{
	const char *id = json_string_value(json_object_get(j->payload, "namespace_id"));
	if (id)
		namespaces_work_finish(id, j->id, "{deprovisioning}", "failed", j->error,
				       "namespace.failed", j->request_id);
}

static const struct job_step deprovision_steps[] = {
	{"containers", deprovision_containers},
	{"resource_group", deprovision_resource_group},
	{"aks_role_assignments", deprovision_aks_role_assignments},
	{"aks_namespace", deprovision_aks_namespace},
};

const struct job_kind namespace_deprovision_kind = {
	NAMESPACE_DEPROVISION, deprovision_steps,
	sizeof(deprovision_steps) / sizeof(deprovision_steps[0]), 8, deprovision_failed,
	deprovision_succeeded,
};

/* ---- regrant ---------------------------------------------------------------- */

/*
 * namespace.regrant: after the tenant's aad_admin_group_id changed, makes
 * the namespace's role assignments name the new group: the resource
 * group's Contributor and, with a Kubernetes namespace, its AKS RBAC Admin.
 * Role assignments cannot be updated in place (ARM answers
 * RoleAssignmentUpdateNotPermitted), so an assignment of another principal
 * under the derived name is deleted, then the new one is put; one already
 * naming the group is left alone, and without a group the old one is only
 * removed. The namespace's own job stays its provisioning or deletion job:
 * this kind does not take it over, and waits (retries) while the namespace
 * is still being provisioned.
 */
static enum job_result regrant(struct job *j, const struct regrant_target *t)
{
	struct step_ctx s;
	struct outbound_result r = {0};
	enum job_result res = JOB_OK;
	char *scope = NULL;
	memset(&s, 0, sizeof(s));
	s.out.request_id = j->request_id;
	s.out.stopping = stopping;
	const char *id = json_string_value(json_object_get(j->payload, "namespace_id"));
	if (id == NULL || !util_is_uuid(id)) {
		job_error(j, "InvalidPayload", "the job has no namespace_id");
		return JOB_FAIL;
	}
	switch (namespaces_work_load(id, &s.ns)) {
	case ST_OK:
		break;
	case ST_NOT_FOUND:
		j->output = json_pack("{s:b, s:s}", "skipped", 1, "reason", "the namespace is gone");
		return JOB_OK;
	default:
		job_error(j, "DatabaseUnavailable", "portal_db is unreachable");
		return JOB_RETRY;
	}
	if (strcmp(s.ns.status, "pending") == 0 || strcmp(s.ns.status, "provisioning") == 0 ||
	    strcmp(s.ns.status, "updating") == 0) {
		job_error(j, "NamespaceProvisioning", "the namespace is still being provisioned or updated");
		j->retry_after_ms = 5000;
		res = JOB_RETRY;
		goto cleanup;
	}
	if (strcmp(s.ns.status, "ready") != 0 && strcmp(s.ns.status, "degraded") != 0) {
		j->output = json_pack("{s:b, s:s, s:s}", "skipped", 1, "reason",
				      "the namespace is not ready", "status", s.ns.status);
		goto cleanup;
	}
	if (t->aks && s.ns.k8s_cluster_id[0] == '\0') {
		j->output = aks_skipped();
		goto cleanup;
	}
	if (t->members && strcmp(s.ns.environment, "dev") != 0) {
		j->output = json_pack("{s:b, s:s}", "skipped", 1, "reason",
				      "members work in dev namespaces only");
		goto cleanup;
	}
	const char *principal = target_principal(&s.ns, t);
	scope = t->aks ? arm_managed_namespace_id(s.ns.k8s_cluster_id, s.ns.k8s_namespace)
		       : arm_resource_group_id(s.ns.resource_group);
	char guid[37];
	arm_role_assignment_guid(s.ns.tenant_id, s.ns.name, t->role, guid);
	arm_scoped_role_assignment_get(&s.out, scope, guid, &r);
	bool exists = r.cls == OUT_OK;
	if (!exists && r.status != 404) {
		res = verdict(j, &s, &r);
		goto cleanup;
	}
	const char *holder = exists ? json_string_value(json_object_get(
					      json_object_get(r.body, "properties"), "principalId"))
				    : NULL;
	if (holder && principal && strcasecmp(holder, principal) == 0) {
		j->output = json_pack("{s:s, s:s, s:b}", "name", guid, "principal_id", principal,
				      "unchanged", 1);
		goto cleanup;
	}
	const char *previous = holder ? arena_strdup(&j->arena, holder) : NULL;
	outbound_result_clear(&r);
	if (exists) {
		arm_scoped_role_assignment_delete(&s.out, scope, guid, &r);
		res = verdict(j, &s, &r);
		outbound_result_clear(&r);
		if (res != JOB_OK)
			goto cleanup;
	}
	json_t *patch;
	if (principal == NULL) {
		j->output = json_pack("{s:s, s:s?, s:b}", "name", guid, "removed_principal_id", previous,
				      "removed", 1);
		patch = regrant_patch(t, NULL);
	} else {
		arm_scoped_role_assignment_put(&s.out, scope, guid, t->role, principal, t->description,
					       &r);
		res = verdict(j, &s, &r);
		if (res != JOB_OK)
			goto cleanup;
		const char *rid = json_string_value(json_object_get(r.body, "id"));
		char *fallback = xasprintf("%s/providers/Microsoft.Authorization/roleAssignments/%s",
					   scope, guid);
		j->output = json_pack("{s:s, s:s, s:s, s:s?}", "id", rid ? rid : fallback, "name", guid,
				      "principal_id", principal, "replaced_principal_id", previous);
		free(fallback);
		patch = regrant_patch(t, json_string_value(json_object_get(j->output, "id")));
	}
	/* Under the namespace's own job, which this kind does not take over. */
	namespaces_work_resources(s.ns.id, s.ns.job_id, patch);
	json_decref(patch);
cleanup:
	free(scope);
	end(&s, &r);
	return res;
}

static enum job_result regrant_role_assignment(struct job *j)
{
	return regrant(j, &regrant_group);
}

static enum job_result regrant_aks_role_assignment(struct job *j)
{
	return regrant(j, &regrant_aks);
}

static enum job_result regrant_members_role_assignment(struct job *j)
{
	return regrant(j, &regrant_members);
}

static const struct job_step regrant_steps[] = {
	{"role_assignment", regrant_role_assignment},
	{"aks_role_assignment", regrant_aks_role_assignment},
	{"aks_members_role_assignment", regrant_members_role_assignment},
};

const struct job_kind namespace_regrant_kind = {
	NAMESPACE_REGRANT, regrant_steps, sizeof(regrant_steps) / sizeof(regrant_steps[0]), 8, NULL, NULL,
};

/* ---- drift repair ---------------------------------------------------------- */

/*
 * namespace.reconcile: periodic, platform-wide. Re-reads the Azure
 * resources of the ready (and degraded) namespaces that are due
 * (ATRIUM_NAMESPACE_RECONCILE_SECONDS, spread per namespace) and puts back
 * what is missing or changed: the resource group and its tags, the
 * Contributor assignment, the containers, the managed namespace and its
 * quota/policy (the size's), the AKS admin assignment. Each namespace's
 * outcome is recorded (last_reconciled_at; audit and a metric per repair);
 * RECONCILE_DEGRADE_AFTER failed repairs in a row make it degraded with the
 * Azure error. Its second step deletes the dev namespaces that have
 * expired. The next run is scheduled whatever became of this one.
 */
#define RECONCILE_BATCH 20
#define RECONCILE_DEGRADE_AFTER 3

/* Records r's failure as the namespace's error; false. */
static bool repair_failed(struct outbound_result *r, json_t **error)
{
	*error = json_pack("{s:s, s:s}", "code", r->code[0] ? r->code : "RepairFailed", "message",
			   r->message);
	return false;
}

static void repaired(json_t *list, const char *what)
{
	json_array_append_new(list, json_string(what));
	metrics_inc(M_NAMESPACE_REPAIRS);
}

/* True when the managed namespace `mn` has the size's quota and policy. */
static bool aks_matches(json_t *mn, const struct ns_size *z)
{
	json_t *p = json_object_get(mn, "properties");
	json_t *q = json_object_get(p, "defaultResourceQuota");
	json_t *np = json_object_get(p, "defaultNetworkPolicy");
	const char *want[][2] = {
		{"cpuRequest", z->cpu_request}, {"cpuLimit", z->cpu_limit},
		{"memoryRequest", z->memory_request}, {"memoryLimit", z->memory_limit},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *have = json_string_value(json_object_get(q, want[i][0]));
		if (have == NULL || strcmp(have, want[i][1]) != 0)
			return false;
	}
	const char *in = json_string_value(json_object_get(np, "ingress"));
	const char *eg = json_string_value(json_object_get(np, "egress"));
	return in && eg && strcmp(in, NS_INGRESS) == 0 && strcmp(eg, z->egress) == 0;
}

/* A role assignment (regrant_group's or regrant_aks's): GET, and PUT when
 * it is missing. */
static bool repair_assignment(struct step_ctx *s, const char *scope, const struct regrant_target *t,
			      const char *what, json_t *list, json_t **error)
{
	struct outbound_result r = {0};
	bool ok = true;
	const char *principal = target_principal(&s->ns, t);
	if (principal == NULL)
		return true;
	char guid[37];
	arm_role_assignment_guid(s->ns.tenant_id, s->ns.name, t->role, guid);
	arm_scoped_role_assignment_get(&s->out, scope, guid, &r);
	if (r.cls != OUT_OK && r.status == 404) {
		outbound_result_clear(&r);
		arm_scoped_role_assignment_put(&s->out, scope, guid, t->role, principal, t->description,
					       &r);
		if (r.cls == OUT_OK)
			repaired(list, what);
	}
	if (r.cls != OUT_OK)
		ok = repair_failed(&r, error);
	outbound_result_clear(&r);
	return ok;
}

/* Repairs one namespace; what was put back goes into list. */
static bool repair_namespace(struct step_ctx *s, json_t *list, json_t **error)
{
	struct outbound_result r = {0};
	bool ok = true;
	/* The resource group and its tags. */
	arm_resource_group_get(&s->out, s->ns.resource_group, &r);
	bool missing = r.cls != OUT_OK && r.status == 404;
	if (r.cls != OUT_OK && !missing) {
		ok = repair_failed(&r, error);
		goto cleanup;
	}
	bool tags_ok = !missing && json_equal(json_object_get(r.body, "tags"), s->ns.tags);
	outbound_result_clear(&r);
	if (missing || !tags_ok) {
		arm_resource_group_put(&s->out, s->ns.resource_group, s->ns.location, s->ns.tags, &r);
		if (r.cls != OUT_OK) {
			ok = repair_failed(&r, error);
			goto cleanup;
		}
		repaired(list, missing ? "resource_group" : "resource_group_tags");
		outbound_result_clear(&r);
	}
	if (s->ns.admin_group[0]) {
		char *scope = arm_resource_group_id(s->ns.resource_group);
		bool done = repair_assignment(s, scope, &regrant_group, "role_assignment", list, error);
		free(scope);
		if (!done) {
			ok = false;
			goto cleanup;
		}
	}
	for (int i = 0; i < s->ns.ncontainers; i++) {
		blob_container_create(&s->out, s->ns.containers[i], &r);
		if (r.cls != OUT_OK) {
			ok = repair_failed(&r, error);
			goto cleanup;
		}
		if (!r.already) {
			char what[96];
			snprintf(what, sizeof(what), "container:%s", s->ns.containers[i]);
			repaired(list, what);
		}
		outbound_result_clear(&r);
	}
	if (s->ns.k8s_cluster_id[0] == '\0')
		goto cleanup;
	const struct ns_size *z = namespaces_size(s->ns.size);
	arm_managed_namespace_get(&s->out, s->ns.k8s_cluster_id, s->ns.k8s_namespace, &r);
	missing = r.cls != OUT_OK && r.status == 404;
	if (r.cls != OUT_OK && !missing) {
		ok = repair_failed(&r, error);
		goto cleanup;
	}
	if (!missing && !aks_owned(r.body, s->ns.id)) {
		outbound_result_set(&r, OUT_PERMANENT, "NamespaceNotOwned",
				    "the managed namespace of this name is not this namespace's");
		ok = repair_failed(&r, error);
		goto cleanup;
	}
	bool same = !missing && z && aks_matches(r.body, z);
	outbound_result_clear(&r);
	if (z && !same) {
		aks_put(s, z, &r);
		if (r.cls != OUT_OK) {
			ok = repair_failed(&r, error);
			goto cleanup;
		}
		repaired(list, missing ? "aks_namespace" : "aks_namespace_quota_policy");
		outbound_result_clear(&r);
	}
	/* Each assignment whose group the tenant has (repair_assignment
	 * passes over the others). */
	char *scope = arm_managed_namespace_id(s->ns.k8s_cluster_id, s->ns.k8s_namespace);
	ok = repair_assignment(s, scope, &regrant_aks, "aks_role_assignment", list, error) &&
	     repair_assignment(s, scope, &regrant_members, "aks_members_role_assignment", list, error);
	free(scope);
cleanup:
	outbound_result_clear(&r);
	return ok;
}

static enum job_result reconcile_namespaces(struct job *j)
{
	char ids[RECONCILE_BATCH][37];
	int n = namespaces_reconcile_due(cfg.namespace_reconcile_s, RECONCILE_BATCH, ids);
	if (n < 0) {
		job_error(j, "DatabaseUnavailable", "portal_db is unreachable");
		return JOB_RETRY;
	}
	json_t *done = json_array();
	for (int i = 0; i < n && !stopping(); i++) {
		struct step_ctx s;
		memset(&s, 0, sizeof(s));
		s.out.request_id = j->request_id;
		s.out.stopping = stopping;
		if (namespaces_work_load(ids[i], &s.ns) != ST_OK)
			continue;
		json_t *list = json_array(), *error = NULL;
		bool ok = repair_namespace(&s, list, &error);
		char status[24];
		if (namespaces_reconciled(s.ns.id, ok, list, error, RECONCILE_DEGRADE_AFTER,
					  j->request_id, status))
			json_array_append_new(done, json_pack("{s:s, s:s, s:O, s:O?}", "namespace_id", s.ns.id,
							      "status", status, "repaired", list,
							      "error", error));
		if (!ok)
			log_warn("namespace %s: drift repair failed: %s", s.ns.id,
				 json_string_value(json_object_get(error, "message")));
		json_decref(list);
		json_decref(error);
		namespaces_work_free(&s.ns);
	}
	j->output = json_pack("{s:o}", "namespaces", done);
	return JOB_OK;
}

/* The next run: a tenth of the interval (at least 1 s, at most 60 s), so a
 * namespace is re-read soon after it is due. */
static int reconcile_delay_ms(void)
{
	int s = cfg.namespace_reconcile_s / 10;
	return (s < 1 ? 1 : s > 60 ? 60 : s) * 1000;
}

static void reconcile_schedule_next(struct job *j)
{
	(void)j;
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL || !db_scope(c, "*") ||
	    !jobs_schedule(c, NAMESPACE_RECONCILE, reconcile_delay_ms()))
		log_error("namespace reconcile: could not schedule the next run; a worker restart "
			  "schedules one");
	db_release(c);
}

/* Expired dev namespaces (expires_at passed) are deleted as a DELETE
 * would; the same periodic job carries it, so expiry needs no cycle of its
 * own. */
static enum job_result expire_namespaces(struct job *j)
{
	int started = namespaces_expire_due(j->request_id, RECONCILE_BATCH);
	if (started < 0) {
		job_error(j, "DatabaseUnavailable", "portal_db is unreachable");
		return JOB_RETRY;
	}
	j->output = json_pack("{s:i}", "deletions_started", started);
	return JOB_OK;
}

static const struct job_step reconcile_steps[] = {
	{"namespaces", reconcile_namespaces},
	{"expired", expire_namespaces},
};

const struct job_kind namespace_reconcile_kind = {
	NAMESPACE_RECONCILE, reconcile_steps, sizeof(reconcile_steps) / sizeof(reconcile_steps[0]), 3,
	reconcile_schedule_next, reconcile_schedule_next,
};

void namespace_jobs_worker_start(void)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL || !db_scope(c, "*") || !jobs_schedule(c, NAMESPACE_RECONCILE, 0))
		log_warn("namespace reconcile: could not queue the start-up run");
	db_release(c);
}

void namespace_jobs_register(void)
{
	jobs_register_kind(&namespace_reconcile_kind);
	jobs_register_kind(&namespace_provision_kind);
	jobs_register_kind(&namespace_update_kind);
	jobs_register_kind(&namespace_deprovision_kind);
	jobs_register_kind(&namespace_regrant_kind);
}
