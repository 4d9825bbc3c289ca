/*
 * tenant_jobs.h - the `tenant.offboard` job kind: deletes a tenant that
 * still has namespaces, after deprovisioning every one of them.
 */
#ifndef ATRIUM_TENANT_JOBS_H
#define ATRIUM_TENANT_JOBS_H

#include "server/jobs/jobs.h"

extern const struct job_kind tenant_offboard_kind;
void tenant_jobs_register(void);

#endif
