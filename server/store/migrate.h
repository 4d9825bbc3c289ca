/*
 * migrate.h - `atrium migrate`: applies db/migrations/<service>/NNNN_*.sql
 * to each service database in order, once each, recorded with its SHA-256
 * in a migrations table (schema_migrations unless configured otherwise).
 * Concurrent runs serialise on an advisory lock, so it is safe to run from
 * every replica at start-up.
 *
 * A file whose first line is `-- atrium:no-transaction` runs statement by
 * statement outside a transaction (CREATE INDEX CONCURRENTLY), still under
 * the lock and still recorded once, after its last statement succeeded.
 */
#ifndef ATRIUM_MIGRATE_H
#define ATRIUM_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum migrate_mode {
	MIGRATE_APPLY,   /* apply what is pending */
	MIGRATE_DRY_RUN, /* print what would be applied; change nothing */
	MIGRATE_STATUS,  /* print each file's state; change nothing */
};

struct migrate_opts {
	const char *dir;      /* holds auth/, portal/, betting/, billing/ */
	const char *table;    /* a plain identifier (config.c checks it) */
	enum migrate_mode mode;
	bool accept_changed;  /* an applied file that changed: record its new checksum */
	FILE *out;            /* status and dry-run reports (stdout) */
	int lock_timeout_ms;      /* each statement's wait for a lock; 0: none */
	int statement_timeout_ms; /* each statement's run time; 0: none */
};

/* Runs over the four databases. Returns the exit status: 0 when done (for
 * STATUS: nothing changed or missing on disk), 1 when a database failed or
 * was unreachable, an applied file changed (unless accept_changed), or (for
 * STATUS) something changed or is missing on disk. */
int migrate_run(const struct migrate_opts *o);

/* Whether the file's first line is the no-transaction directive. Sets
 * *bad when the first line is an `-- atrium:` directive it does not know. */
bool migrate_is_no_transaction(const char *sql, bool *bad);

/* Splits SQL text into statements at top-level semicolons (quotes, quoted
 * identifiers, dollar quotes and comments respected; statements that are
 * only comments or blanks dropped). Returns how many; *out is a heap array
 * of heap strings, each freed by the caller (and the array). Not handled:
 * BEGIN ATOMIC bodies, which contain bare semicolons. */
size_t migrate_split_sql(const char *sql, char ***out);

#endif
