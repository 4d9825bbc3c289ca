/*
 * migrate.h - `atrium migrate`: applies db/migrations/<service>/NNNN_*.sql
 * to each service database in order, once each, recorded in
 * schema_migrations. Concurrent runs serialise on an advisory lock, so it
 * is safe to run from every replica at start-up.
 */
#ifndef ATRIUM_MIGRATE_H
#define ATRIUM_MIGRATE_H

#include <stdbool.h>

/* Returns true when every database is up to date. */
bool migrate_all(const char *dir);

#endif
