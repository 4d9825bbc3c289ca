/*
 * client.h - a small HTTPS client for the integration tests (libcurl),
 * plus helpers to mint tokens at the local identity provider and to reach
 * the service databases directly for assertions.
 */
#ifndef ATRIUM_TEST_CLIENT_H
#define ATRIUM_TEST_CLIENT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct resp {
	long status;
	char *body;
	size_t len;
	size_t cap;        /* bytes allocated for body */
	json_t *json;      /* parsed body, NULL when not JSON */
	char *headers;     /* raw header block */
	int curl_code;
};

/* One request. headers is a NULL-terminated list of "Name: value" lines,
 * may be NULL. body may be NULL. Never NULL; free with resp_free(). */
struct resp *http(const char *method, const char *path, const char *token, const char *body,
		  const char *const *headers);
/* Same against another base URL (a second server). */
struct resp *http_at(const char *base, const char *method, const char *path, const char *token,
		     const char *body, const char *const *headers);
void resp_free(struct resp *r);
/* Value of a response header (case-insensitive), heap copy or NULL. */
char *resp_header(const struct resp *r, const char *name);
/* Asserts a problem+json body with this status, and its request_id. */
void assert_problem(const struct resp *r, long status);

/* Mints a token: extra is a JSON object merged into the /mint request. */
char *mint(const char *tid, const char *oid, const char *roles_csv, const char *extra_json);
char *super_token(void);
const char *home_tid(void);
const char *base_url(void);

/* Creates a tenant as super admin with a random slug and directory. */
struct tenant {
	char id[37];
	char aad[37];
	char slug[64];
};
void create_tenant(struct tenant *t);

void random_uuid(char out[37]);
/* In a forked child: die with the test process, so a failed assertion
 * never leaves a server or worker running against the next run's stack. */
void test_child_dies_with_parent(void);

/*
 * A second `atrium serve` (ATRIUM_TEST_BINARY) on 127.0.0.1:port, with the
 * test's environment plus env ("NAME=value", NULL-ended; may be NULL), its
 * stderr to log (NULL: discarded). Waits up to 30 s for /healthz (fails
 * the test otherwise) and writes its base URL. The child dies with the
 * test. port 0: ATRIUM_TEST_RL_PORT (28444), the port the suites' second
 * server uses.
 */
pid_t spawn_serve(unsigned short port, const char *const *env, const char *log, char *base,
		  size_t len);
/* SIGTERM, then waits; returns the wait status. */
int stop_serve(pid_t pid);

/* A direct connection to a service database as the application role. */
PGconn *db_connect(const char *env_var);

/* tests/fixtures/webhooks/<name> with each "{{NAME}}" of subs (pairs,
 * NULL-terminated) filled; heap. */
char *fixture(const char *name, const char *const *subs);

/* The whole file, NUL-terminated (heap); NULL when it cannot be read. */
char *slurp_file(const char *path);

/*
 * `atrium worker` (ATRIUM_TEST_BINARY) with each "NAME=value" of env (NULL-
 * terminated) set, its stdout and stderr appended to log_path. The child
 * dies with the test.
 */
pid_t spawn_worker(const char *log_path, const char *const *env);

#endif
