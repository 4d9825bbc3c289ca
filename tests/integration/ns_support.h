/*
 * ns_support.h - what the namespace and worker integration tests share:
 * the fake ARM's control API (faults, request log, state), Azurite checks
 * through the Blob client, portal_db reads, the job runner in-process,
 * and `atrium worker` processes spawned from ATRIUM_TEST_BINARY.
 */
#ifndef ATRIUM_TEST_NS_SUPPORT_H
#define ATRIUM_TEST_NS_SUPPORT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

/* Suite set-up: configuration, statements, job kinds, pools; fails the
 * namespace jobs left over by earlier runs and resets the fake's config. */
void nst_setup(void);
void nst_teardown(void);

/* One text value of `sql` with up to two parameters, heap or NULL. */
char *nst_sql(const char *sql, const char *p1, const char *p2);
long nst_sql_long(const char *sql, const char *p1, const char *p2);

/* A tenant (random slug unless given) and a tenant_admin token for it. */
struct nst_tenant {
	char id[37], aad[37], slug[64], admin_group[37];
	char *admin;      /* tenant_admin token */
};
void nst_tenant(struct nst_tenant *t, bool with_admin_group, const char *slug);
void nst_tenant_free(struct nst_tenant *t);

/* POSTs a namespace and asserts the status; returns the body (decref it). */
json_t *nst_create(const struct nst_tenant *t, const char *name, const char *env,
		   const char *location, long want);
/* The namespace's status (heap). */
char *nst_status(const char *ns_id);
/* Runs due jobs in-process until the namespace's status is in `until`
 * (",ready,failed,"), at most timeout_s seconds. Returns it (heap). */
char *nst_drive(const char *ns_id, const char *until, int timeout_s);
/* Polls (without running jobs) until the status is in `until`. */
char *nst_wait(const char *ns_id, const char *until, int timeout_s);
/* The namespace's job id and the job's `expr` (SQL over jobs j). */
char *nst_job(const char *ns_id, const char *expr);

/* Fake ARM control API. */
json_t *fake_call(const char *method, const char *path, const char *body);
char *fake_fault(const char *json);   /* adds a fault, returns its id (heap) */
void fake_fault_del(char *id);        /* removes it and frees id */
int fake_count(const char *method, const char *path_regex);
/* Resource groups named `name`, and role assignments scoped to group `rg`. */
int fake_rg_count(const char *name);
int fake_ra_count(const char *rg);
/* The principal of the one role assignment on group `rg` (heap), NULL
 * when there is none; fails the test when there are several. */
char *fake_ra_principal(const char *rg);
/* The fake's managed namespace named `name` (any cluster), or NULL
 * (decref it). */
json_t *fake_mns(const char *name);
/* Role assignments whose scope is exactly `scope` (case-insensitive). */
int fake_scope_ra_count(const char *scope);
/* The principal of the one assignment with exactly that scope; NULL: none. */
char *fake_scope_ra_principal(const char *scope);
/* Runs due jobs in-process until no job of `kind` for the tenant is
 * queued or running, at most timeout_s seconds; true when none is left. */
bool nst_drain_kind(const char *tenant_id, const char *kind, int timeout_s);
long fake_counter(const char *name);

/* Azurite: does container `name` exist? */
bool nst_container_exists(const char *name);

/* Sends sig and waits up to timeout_s for the exit; returns the exit
 * status, or -1 when it had to be killed or died by a signal. */
int nst_stop(pid_t pid, int sig, int timeout_s);
unsigned short nst_free_port(void);
/* True when the log holds no sanitizer report. */
bool nst_log_clean(const char *path);
/* A fresh log file path under the run directory (heap). */
char *nst_log_path(const char *what);

#endif
