/*
 * static.h - the built portal (web/dist) served by `atrium serve`: hashed
 * assets cached for a year, index.html never cached, and index.html for
 * any client-side route, under the portal's Content-Security-Policy.
 */
#ifndef ATRIUM_STATIC_H
#define ATRIUM_STATIC_H

#include <stdbool.h>

struct request;

/* Answers a GET/HEAD for a portal path. False when the path is not the
 * portal's (API prefixes, traversal, no such asset): the caller 404s. */
bool static_serve(struct request *r);

#endif
