/*
 * metrics_http.h - a tiny plain-HTTP listener for processes without the
 * API server: `atrium worker` exposes GET /metrics (its own job and
 * outbound-call series, plus the gauges) and GET /healthz on
 * ATRIUM_WORKER_METRICS_LISTEN (host:port). Nothing else is served.
 */
#ifndef ATRIUM_METRICS_HTTP_H
#define ATRIUM_METRICS_HTTP_H

#include <stdbool.h>

/* Starts listening on "host:port" (port 0: any free port). False (logged)
 * on failure. */
bool metrics_http_start(const char *listen);
/* The port actually bound, 0 when not listening. */
unsigned short metrics_http_port(void);
void metrics_http_stop(void);

#endif
