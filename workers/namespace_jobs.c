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
#include "server/common/log.h"
#include "services/namespaces.h"
#include "server/outbound/outbound.h"
#include "server/common/util.h"

#include <stdlib.h>
#include <string.h>

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
	case PORTAL_OK:
		break;
	case PORTAL_NOT_FOUND:
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

static enum job_result provision_resource_group(struct job *j)
{
	struct step_ctx s;
	struct outbound_result r = {0};
	enum job_result res = begin(j, "pending,provisioning", &s);
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
	enum job_result res = begin(j, "provisioning", &s);
	if (res != JOB_OK)
		goto cleanup;
	if (s.ns.admin_group[0] == '\0') {
		/* Nothing to grant: say so in the step's output. */
		j->output = json_pack("{s:b, s:s}", "skipped", 1, "reason",
				      "the tenant has no aad_admin_group_id; set it and re-create the "
				      "namespace to grant the group Contributor");
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
	enum job_result res = begin(j, "provisioning", &s);
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

static void provision_succeeded(struct job *j)
{
	const char *id = json_string_value(json_object_get(j->payload, "namespace_id"));
	if (id)
		namespaces_work_finish(id, j->id, "{provisioning}", "ready", NULL, "namespace.ready",
				       j->request_id);
}

static void provision_failed(struct job *j)
{
	const char *id = json_string_value(json_object_get(j->payload, "namespace_id"));
	if (id)
		namespaces_work_finish(id, j->id, "{pending,provisioning}", "failed", j->error,
				       "namespace.failed", j->request_id);
}

static const struct job_step provision_steps[] = {
	{"resource_group", provision_resource_group},
	{"role_assignment", provision_role_assignment},
	{"containers", provision_containers},
};

const struct job_kind namespace_provision_kind = {
	NAMESPACE_PROVISION, provision_steps, sizeof(provision_steps) / sizeof(provision_steps[0]),
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
};

const struct job_kind namespace_deprovision_kind = {
	NAMESPACE_DEPROVISION, deprovision_steps,
	sizeof(deprovision_steps) / sizeof(deprovision_steps[0]), 8, deprovision_failed,
	deprovision_succeeded,
};

void namespace_jobs_register(void)
{
	jobs_register_kind(&namespace_provision_kind);
	jobs_register_kind(&namespace_deprovision_kind);
}
