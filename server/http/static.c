/*
 * static.c - files of web/dist.
 */
#include "server/http/static.h"
#include "server/common/config.h"
#include "server/http/http.h"
#include "server/http/reply.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The portal's policy. With Blob Storage configured, its origin may be
 * fetched (catalog uploads through a SAS) and shown (product images). */
static char portal_csp[1024];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

static void csp_init(void)
{
	char origin[300] = "";
	const char *u = cfg.storage_blob_url;
	const char *host = u ? strstr(u, "://") : NULL;
	if (host && (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0)) {
		host += 3;
		size_t n = strcspn(host, "/?#");
		/* Only what a host[:port] holds, so nothing else reaches the header. */
		bool ok = n > 0 && n < 256 && strspn(host, "abcdefghijklmnopqrstuvwxyz"
							   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") >= n;
		if (ok)
			snprintf(origin, sizeof(origin), " %.*s%.*s", (int)(host - u), u, (int)n, host);
	}
	snprintf(portal_csp, sizeof(portal_csp),
		 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:%s; "
		 "connect-src 'self'%s; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
		 "form-action 'self'; object-src 'none'",
		 origin, origin);
}

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
	{".png", "image/png"},                 {".ico", "image/x-icon"},
	{".json", "application/json"},         {".woff2", "font/woff2"},
	{".txt", "text/plain; charset=utf-8"}, {".webmanifest", "application/manifest+json"},
	{".map", "application/json"},
};

static const char *type_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static bool safe_path(const char *p)
{
	if (p[0] != '/' || strstr(p, "..") || strstr(p, "//") || strchr(p, '\\'))
		return false;
	for (const char *c = p; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return strlen(p) < 512;
}

static bool send_file(struct request *r, const char *rel, bool immutable)
{
	char full[1024];
	snprintf(full, sizeof(full), "%s%s", cfg.web_dir, rel);
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	/* MHD owns fd from here and closes it. */
	struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (resp == NULL) {
		close(fd);
		return false;
	}
	if (r->response)
		MHD_destroy_response(r->response);
	r->response = resp;
	r->status = 200;
	reply_header(r, "Content-Type", type_of(rel));
	reply_header(r, "Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
	pthread_once(&csp_once, csp_init);
	reply_header(r, "Content-Security-Policy", portal_csp);
	return true;
}

bool static_serve(struct request *r)
{
	const char *p = r->path;
	if (strncmp(p, "/v1/", 4) == 0 || strcmp(p, "/v1") == 0 || strncmp(p, "/auth/", 6) == 0 ||
	    !safe_path(p))
		return false;
	if (strcmp(p, "/") == 0 || strcmp(p, "/index.html") == 0)
		return send_file(r, "/index.html", false);
	if (send_file(r, p, strncmp(p, "/assets/", 8) == 0))
		return true;
	/* A client-side route (no file extension) asked for by a browser: the
	 * app shell. API clients (no text/html in Accept) get the 404 problem. */
	const char *last = strrchr(p, '/');
	const char *accept = req_header(r, "Accept");
	if (last && strchr(last, '.') == NULL && accept && strstr(accept, "text/html"))
		return send_file(r, "/index.html", false);
	return false;
}
