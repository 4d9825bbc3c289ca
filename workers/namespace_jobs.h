/*
 * namespace_jobs.h - the job kinds that build and tear down a namespace's
 * Azure infrastructure, run by `atrium worker`.
 *
 *   namespace.provision    resource_group -> role_assignment -> containers
 *                          -> aks_namespace -> aks_role_assignments
 *   namespace.update       the same steps for a new size (create-or-update)
 *   namespace.reconcile    periodic: re-reads ready namespaces and puts back
 *                          what drifted (ATRIUM_NAMESPACE_RECONCILE_SECONDS)
 *   namespace.deprovision  containers -> resource_group (follows the
 *                          deletion to its end; the role assignment goes
 *                          with the group) -> aks_role_assignments ->
 *                          aks_namespace (only when it is this namespace's)
 *
 * The aks_* steps say "skipped" when the namespace has no Kubernetes
 * namespace (it was made without ATRIUM_AKS_CLUSTER_ID).
 *
 * Each step is idempotent (PUT, a derived role assignment name, "already
 * exists" and "already gone" are success), so a job resumed after a crash
 * repeats at most the step it was in, and that step's effect is the same.
 *
 * The payload is {"namespace_id": "..."}; everything else is read from
 * portal_db when the step runs.
 */
#ifndef ATRIUM_NAMESPACE_JOBS_H
#define ATRIUM_NAMESPACE_JOBS_H

#include "server/jobs/jobs.h"
#include "services/namespaces.h"

extern const struct job_kind namespace_provision_kind;
extern const struct job_kind namespace_update_kind;
extern const struct job_kind namespace_deprovision_kind;
extern const struct job_kind namespace_regrant_kind;
extern const struct job_kind namespace_reconcile_kind;
/* In `atrium worker`: queues the first drift-repair run. */
void namespace_jobs_worker_start(void);

/* Registers both kinds with the job runtime. */
void namespace_jobs_register(void);

#endif
