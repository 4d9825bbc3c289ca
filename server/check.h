/*
 * check.h - `atrium check`: the configuration and every dependency, one
 * line each, before a deploy or when something is wrong; and the settings
 * the worker cannot start without.
 *
 * Like main.c, it sits above every floor: it reaches each one to ask it.
 */
#ifndef ATRIUM_CHECK_H
#define ATRIUM_CHECK_H

#include <stdbool.h>
#include <stdio.h>

enum check_scope {
	CHECK_SERVE = 1,  /* what `atrium serve` needs */
	CHECK_WORKER = 2, /* what `atrium worker` needs */
};

/* Prints the report to out; returns the exit status (0: every check
 * passed, 1: one failed). `scope` is a set of enum check_scope bits.
 * Call after config_load() and outbound_global_init(). */
int check_run(unsigned scope, FILE *out);

/* The worker's required settings that are missing, each named on err;
 * true when none is. Every job kind is registered in every worker, and
 * the namespace jobs need Azure: without them a worker would take jobs it
 * can only fail. */
bool check_worker_settings(FILE *err);

#endif
