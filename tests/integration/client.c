/*
 * client.c - see client.h.
 */
#include "client.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atrium_build.h"
#include "server/common/util.h"

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

const char *base_url(void)
{
	return env_or("ATRIUM_TEST_BASE_URL", "https://127.0.0.1:28443");
}

const char *home_tid(void)
{
	return env_or("ATRIUM_HOME_TENANT_ID", "99999999-9999-4999-8999-999999999999");
}

static size_t on_body(char *p, size_t s, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t len = s * n;
	if (r->len + len + 1 > r->cap) {
		/* Doubling: a long body costs no quadratic copying. */
		r->cap = r->cap ? r->cap : 4096;
		while (r->len + len + 1 > r->cap)
			r->cap *= 2;
		r->body = xrealloc(r->body, r->cap);
	}
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t s, size_t n, void *ud)
{
	char **h = ud;
	size_t len = s * n, old = *h ? strlen(*h) : 0;
	*h = xrealloc(*h, old + len + 1);
	memcpy(*h + old, p, len);
	(*h)[old + len] = '\0';
	return len;
}

struct resp *http_at(const char *base, const char *method, const char *path, const char *token,
		     const char *body, const char *const *headers)
{
	struct resp *r = xcalloc(1, sizeof(*r));
	CURL *c = curl_easy_init();
	char *url = xasprintf("%s%s", base, path);
	struct curl_slist *hl = NULL;
	char *auth = NULL;
	if (token) {
		auth = xasprintf("Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, auth);
	}
	bool has_ct = false;
	for (const char *const *h = headers; h && *h; h++) {
		hl = curl_slist_append(hl, *h);
		if (strncasecmp(*h, "Content-Type:", 13) == 0)
			has_ct = true;
	}
	if (body && !has_ct)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	const char *ca = getenv("ATRIUM_TEST_CA");
	if (ca && *ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	r->curl_code = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	free(url);
	free(auth);
	if (r->body)
		r->json = json_loadb(r->body, r->len, 0, NULL);
	return r;
}

struct resp *http(const char *method, const char *path, const char *token, const char *body,
		  const char *const *headers)
{
	return http_at(base_url(), method, path, token, body, headers);
}

void resp_free(struct resp *r)
{
	if (r == NULL)
		return;
	json_decref(r->json);
	free(r->body);
	free(r->headers);
	free(r);
}

char *resp_header(const struct resp *r, const char *name)
{
	size_t n = strlen(name);
	/* Only the last header block counts (after any 100 Continue). */
	const char *block = r->headers;
	for (const char *p = r->headers; p && (p = strstr(p, "HTTP/")) != NULL; p += 5)
		block = p;
	for (const char *p = block; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		if (eol == NULL)
			break;
		if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			return xstrndup(v, (size_t)(eol - v));
		}
		p = eol + 2;
	}
	return NULL;
}

void assert_problem(const struct resp *r, long status)
{
	cr_assert_eq(r->status, status, "expected %ld, got %ld: %s", status, r->status,
		     r->body ? r->body : "(no body)");
	char *ct = resp_header(r, "Content-Type");
	cr_assert_not_null(ct);
	cr_assert_str_eq(ct, "application/problem+json");
	free(ct);
	cr_assert_not_null(r->json, "problem body is not JSON: %s", r->body);
	cr_assert_eq(json_integer_value(json_object_get(r->json, "status")), status);
	cr_assert_not_null(json_string_value(json_object_get(r->json, "type")));
	cr_assert_not_null(json_string_value(json_object_get(r->json, "title")));
	cr_assert_not_null(json_string_value(json_object_get(r->json, "detail")));
	char *rid = resp_header(r, "X-Request-Id");
	cr_assert_not_null(rid);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "request_id")), rid);
	free(rid);
}

char *mint(const char *tid, const char *oid, const char *roles_csv, const char *extra_json)
{
	json_t *req = extra_json ? json_loads(extra_json, 0, NULL) : json_object();
	cr_assert_not_null(req, "bad extra json");
	json_object_set_new(req, "tid", json_string(tid));
	if (oid)
		json_object_set_new(req, "oid", json_string(oid));
	json_t *roles = json_array();
	if (roles_csv) {
		char *copy = xstrdup(roles_csv), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			json_array_append_new(roles, json_string(t));
		free(copy);
	}
	if (json_array_size(roles))
		json_object_set_new(req, "roles", roles);
	else
		json_decref(roles);
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	struct resp *r = http_at(env_or("ATRIUM_TEST_IDP_URL", "http://127.0.0.1:28080"), "POST",
				 "/mint", NULL, body, NULL);
	free(body);
	cr_assert_eq(r->status, 200, "mint failed: %ld %s", r->status, r->body ? r->body : "");
	char *tok = xstrdup(json_string_value(json_object_get(r->json, "access_token")));
	resp_free(r);
	return tok;
}

char *super_token(void)
{
	return mint(home_tid(), "5a5a5a5a-0000-4000-8000-00000000a001", "super_admin", NULL);
}

void random_uuid(char out[37])
{
	util_uuid_v4(out);
}

void create_tenant(struct tenant *t)
{
	char u[37];
	random_uuid(u);
	random_uuid(t->aad);
	snprintf(t->slug, sizeof(t->slug), "t-%.12s", u);
	char *body = xasprintf("{\"slug\":\"%s\",\"name\":\"Tenant %s\",\"aad_tenant_id\":\"%s\","
			       "\"tags\":{\"Owner\":\"ops@example.test\",\"CostCenter\":\"CC-1\"}}",
			       t->slug, t->slug, t->aad);
	char *tok = super_token();
	struct resp *r = http("POST", "/v1/tenants", tok, body, NULL);
	cr_assert_eq(r->status, 201, "create tenant: %ld %s", r->status, r->body ? r->body : "");
	snprintf(t->id, sizeof(t->id), "%s", json_string_value(json_object_get(r->json, "id")));
	resp_free(r);
	free(tok);
	free(body);
}

PGconn *db_connect(const char *env_var)
{
	PGconn *pg = PQconnectdb(env_or(env_var, ""));
	cr_assert_eq(PQstatus(pg), CONNECTION_OK, "%s: %s", env_var, PQerrorMessage(pg));
	return pg;
}

void test_child_dies_with_parent(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1) /* the parent is already gone */
		_exit(125);
}

pid_t spawn_serve(unsigned short port, const char *const *env, const char *log, char *base,
		  size_t len)
{
	const char *bin = getenv("ATRIUM_TEST_BINARY");
	cr_assert_not_null(bin, "ATRIUM_TEST_BINARY must name the atrium binary");
	if (port == 0)
		port = (unsigned short)atoi(env_or("ATRIUM_TEST_RL_PORT", "28444"));
	snprintf(base, len, "https://127.0.0.1:%u", port);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		test_child_dies_with_parent();
		char listen[64];
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
		setenv("ATRIUM_LISTEN", listen, 1);
		for (size_t i = 0; env && env[i]; i++) {
			const char *eq = strchr(env[i], '=');
			if (eq == NULL)
				_exit(126);
			char name[128];
			snprintf(name, sizeof(name), "%.*s", (int)(eq - env[i]), env[i]);
			setenv(name, eq + 1, 1);
		}
		if (freopen(log ? log : "/dev/null", "w", stderr) == NULL)
			_exit(126);
		execl(bin, bin, "serve", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		struct resp *r = http_at(base, "GET", "/healthz", NULL, NULL, NULL);
		long st = r->status;
		resp_free(r);
		if (st == 200)
			return pid;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_fail("atrium serve on port %u did not start%s%s", port, log ? "; see " : "",
		       log ? log : "");
	return -1;
}

int stop_serve(pid_t pid)
{
	int status = 0;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return status;
}

char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(f);
	fclose(mem);
	return text;
}

pid_t spawn_worker(const char *log_path, const char *const *env)
{
	const char *bin = getenv("ATRIUM_TEST_BINARY");
	cr_assert_not_null(bin, "ATRIUM_TEST_BINARY must name the atrium binary");
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		test_child_dies_with_parent();
		for (const char *const *e = env; e && *e; e++)
			putenv((char *)*e);
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execl(bin, bin, "worker", (char *)NULL);
		_exit(127);
	}
	return pid;
}

char *fixture(const char *name, const char *const *subs)
{
	char *path = xasprintf("%s/tests/fixtures/webhooks/%s", ATRIUM_SOURCE_ROOT, name);
	char *text = slurp_file(path);
	cr_assert_not_null(text, "fixture %s", path);
	free(path);
	for (const char *const *s = subs; s && s[0]; s += 2) {
		char *key = xasprintf("{{%s}}", s[0]);
		char *p;
		while ((p = strstr(text, key)) != NULL) {
			char *next = xasprintf("%.*s%s%s", (int)(p - text), text, s[1], p + strlen(key));
			free(text);
			text = next;
		}
		free(key);
	}
	cr_assert_null(strstr(text, "{{"), "unfilled placeholder in %s: %s", name, strstr(text, "{{"));
	return text;
}
