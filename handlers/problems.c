/*
 * problems.c - the problem catalogue, served where each problem's `type`
 * points: GET /problems (every entry) and GET /problems/{code} (one).
 *
 * The catalogue is docs/PROBLEMS.md (ATRIUM_PROBLEMS_PATH): its table rows
 * "| `code` | status | when | what to do |" are the entries, read once at
 * first use. HTML for people; JSON when the client asks for it (Accept:
 * application/json), for tooling.
 */
#include "handlers/handlers.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/util.h"
#include "server/http/reply.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROBLEMS 128

struct problem_entry {
	char *code, *when, *todo;
	int status;
};

static struct problem_entry entries[MAX_PROBLEMS];
static int n_entries = -1; /* -1: the file could not be read */
static pthread_once_t loaded = PTHREAD_ONCE_INIT;

/* A table cell with its surrounding spaces trimmed (heap). */
static char *cell(const char *s, size_t n)
{
	while (n && *s == ' ') {
		s++;
		n--;
	}
	while (n && s[n - 1] == ' ')
		n--;
	return xstrndup(s, n);
}

/* "| `code` | 400 | when | what to do |" -> an entry; false for any other
 * line. The cells of this table hold no '|' (the drift test keeps it so). */
static bool parse_row(const char *line, struct problem_entry *e)
{
	if (strncmp(line, "| `", 3) != 0)
		return false;
	const char *cells[5];
	size_t lens[5];
	const char *p = line + 1;
	int n = 0;
	while (n < 5) {
		const char *bar = strchr(p, '|');
		if (bar == NULL)
			break;
		cells[n] = p;
		lens[n] = (size_t)(bar - p);
		n++;
		p = bar + 1;
	}
	if (n != 4)
		return false;
	char *code = cell(cells[0], lens[0]);
	size_t cl = strlen(code);
	char *status = cell(cells[1], lens[1]);
	bool ok = cl > 2 && code[0] == '`' && code[cl - 1] == '`';
	int st = ok ? atoi(status) : 0;
	free(status);
	if (!ok || st < 400 || st > 599) {
		free(code);
		return false;
	}
	memmove(code, code + 1, cl - 2);
	code[cl - 2] = '\0';
	*e = (struct problem_entry){.code = code, .status = st, .when = cell(cells[2], lens[2]),
				    .todo = cell(cells[3], lens[3])};
	return true;
}

static void load(void)
{
	FILE *f = fopen(cfg.problems_path, "r");
	if (f == NULL) {
		log_warn("problems: %s cannot be read: /problems answers 404", cfg.problems_path);
		return;
	}
	char line[8192];
	n_entries = 0;
	while (fgets(line, sizeof(line), f) && n_entries < MAX_PROBLEMS)
		if (parse_row(line, &entries[n_entries]))
			n_entries++;
	fclose(f);
}

static const struct problem_entry *find(const char *code)
{
	for (int i = 0; i < n_entries; i++)
		if (strcmp(entries[i].code, code) == 0)
			return &entries[i];
	return NULL;
}

static bool wants_json(struct request *r)
{
	const char *accept = req_header(r, "Accept");
	return accept && (strstr(accept, "application/json") || strstr(accept, "application/problem+json"));
}

/* Text into HTML, `code` spans as <code>. */
static void html_text(FILE *b, const char *s)
{
	bool in_code = false;
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", b); break;
		case '<': fputs("&lt;", b); break;
		case '>': fputs("&gt;", b); break;
		case '"': fputs("&quot;", b); break;
		case '`':
			fputs(in_code ? "</code>" : "<code>", b);
			in_code = !in_code;
			break;
		default: fputc(*s, b);
		}
	}
	if (in_code)
		fputs("</code>", b);
}

static json_t *entry_json(const struct problem_entry *e)
{
	return json_pack("{s:o, s:s, s:i, s:s, s:s}", "type", json_sprintf("%s/problems/%s", cfg.public_url, e->code),
			 "code", e->code, "status", e->status, "when", e->when, "what_to_do", e->todo);
}

static void html_entry(FILE *b, const struct problem_entry *e)
{
	fputs("<section id=\"", b);
	html_text(b, e->code);
	fputs("\"><h2><code>", b);
	html_text(b, e->code);
	fprintf(b, "</code> (%d)</h2>\n<p><strong>When:</strong> ", e->status);
	html_text(b, e->when);
	fputs("</p>\n<p><strong>What to do:</strong> ", b);
	html_text(b, e->todo);
	fputs("</p></section>\n", b);
}

/* A page around the sections written by fill(). */
static void reply_html(struct request *r, const char *title,
		       void (*fill)(FILE *b, const struct problem_entry *e), const struct problem_entry *e)
{
	char *page = NULL;
	size_t len = 0;
	FILE *b = open_memstream(&page, &len);
	if (b == NULL) {
		reply_internal(r);
		return;
	}
	fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", b);
	html_text(b, title);
	fputs(" · Atrium</title></head><body><main><h1>", b);
	html_text(b, title);
	fputs("</h1>\n", b);
	fill(b, e);
	fputs("<p><a href=\"/problems\">Every problem type</a></p></main></body></html>\n", b);
	fclose(b);
	reply_bytes(r, 200, "text/html; charset=utf-8", page, len);
	reply_header(r, "Cache-Control", "public, max-age=3600");
	free(page);
}

static void fill_all(FILE *b, const struct problem_entry *unused)
{
	(void)unused;
	fputs("<p>Every error is a problem document (RFC 9457); its <code>type</code> is one of "
	      "these.</p>\n", b);
	for (int i = 0; i < n_entries; i++)
		html_entry(b, &entries[i]);
}

static void problems_list(struct request *r)
{
	pthread_once(&loaded, load);
	if (n_entries < 0) {
		reply_not_found(r);
		return;
	}
	if (wants_json(r)) {
		json_t *items = json_array();
		for (int i = 0; i < n_entries; i++)
			json_array_append_new(items, entry_json(&entries[i]));
		reply_json(r, 200, json_pack("{s:o}", "items", items));
		return;
	}
	reply_html(r, "Problem types", fill_all, NULL);
}

static void problems_one(struct request *r)
{
	pthread_once(&loaded, load);
	const struct problem_entry *e = n_entries > 0 ? find(r->params[0]) : NULL;
	if (e == NULL) {
		reply_not_found(r);
		return;
	}
	if (wants_json(r)) {
		reply_json(r, 200, entry_json(e));
		return;
	}
	char title[160];
	snprintf(title, sizeof(title), "Problem: %s", e->code);
	reply_html(r, title, html_entry, e);
}

const struct route problems_routes[] = {
	{HTTP_GET, "/problems", problems_list, AUTH_NONE, ROLE_ANY, BODY_NONE, "ops.problems"},
	{HTTP_GET, "/problems/{code}", problems_one, AUTH_NONE, ROLE_ANY, BODY_NONE, "ops.problem"},
};
const size_t problems_routes_len = sizeof(problems_routes) / sizeof(problems_routes[0]);
