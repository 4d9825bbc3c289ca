/*
 * metrics_http.c - /metrics and /healthz for the worker. See metrics_http.h.
 */
#include "server/http/metrics_http.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/common/util.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static struct MHD_Daemon *daemon_;
static unsigned short port_;

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type,
			      char *body, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), body, mode);
	if (resp == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	(void)cls;
	(void)version;
	(void)upload;
	if (*state == NULL) { /* first call: headers only */
		*state = conn;
		return MHD_YES;
	}
	*upload_size = 0; /* bodies are ignored */
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer(conn, 405, "text/plain", (char *)"method not allowed\n", MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") == 0)
		return answer(conn, 200, "text/plain; version=0.0.4", metrics_render(), MHD_RESPMEM_MUST_FREE);
	if (strcmp(url, "/healthz") == 0)
		return answer(conn, 200, "application/json", (char *)"{\"status\":\"ok\"}", MHD_RESPMEM_PERSISTENT);
	return answer(conn, 404, "text/plain", (char *)"not found\n", MHD_RESPMEM_PERSISTENT);
}

bool metrics_http_start(const char *listen)
{
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	if (colon == NULL || colon == listen) {
		log_error("worker metrics: listen address must be host:port, got '%s'", listen ? listen : "");
		return false;
	}
	char *host = xstrndup(listen, (size_t)(colon - listen));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:9100 */
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	free(host);
	if (rc != 0 || ai == NULL) {
		log_error("worker metrics: cannot resolve '%s': %s", listen, gai_strerror(rc));
		return false;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, &on_request, NULL,
				   MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				   MHD_OPTION_CONNECTION_LIMIT, 64u,
				   MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				   MHD_OPTION_END);
	freeaddrinfo(ai);
	if (daemon_ == NULL) {
		log_error("worker metrics: cannot listen on %s", listen);
		return false;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	port_ = info ? info->port : 0;
	log_info("worker metrics: serving /metrics on port %u", (unsigned)port_);
	return true;
}

unsigned short metrics_http_port(void)
{
	return port_;
}

void metrics_http_stop(void)
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	port_ = 0;
}
