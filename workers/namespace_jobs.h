/*
 * namespace_jobs.h - the job kinds that build and tear down a namespace's
 * Azure infrastructure, run by `atrium worker`.
 *
 *   namespace.provision    resource_group -> role_assignment -> containers
 *   namespace.deprovision  containers -> resource_group (follows the
 *                          deletion to its end; the role assignment goes
 *                          with the group)
 *
 * Each step is idempotent (PUT, a derived role assignment name, "already
 * exists" and "already gone" are success), so a job resumed after a crash
 * repeats at most the step it was in, and that step's effect is the same.
 * A later step (a Kubernetes namespace in AKS, say) is one more row in a
 * step table and one function.
 *
 * The payload is {"namespace_id": "..."}; everything else is read from
 * portal_db when the step runs.
 */
#ifndef ATRIUM_NAMESPACE_JOBS_H
#define ATRIUM_NAMESPACE_JOBS_H

#include "server/jobs/jobs.h"
#include "services/namespaces.h"

extern const struct job_kind namespace_provision_kind;
extern const struct job_kind namespace_deprovision_kind;
extern const struct job_kind namespace_regrant_kind;

/* Registers both kinds with the job runtime. */
void namespace_jobs_register(void);

#endif
