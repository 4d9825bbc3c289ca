/*
 * redis.h - hiredis connections, one per thread (a pthread key frees it when
 * the thread ends), and the fixed-window rate limiter kept in Redis so all
 * replicas share it.
 */
#ifndef ATRIUM_REDIS_H
#define ATRIUM_REDIS_H

#include <stdbool.h>

/* Parses ATRIUM_REDIS_URL; false when malformed. */
bool redis_start(void);
void redis_stop(void);

/* PING; for /readyz. */
bool redis_ping(void);

enum rl_result { RL_ALLOW, RL_LIMITED, RL_ERROR };

/*
 * Counts one request against each key that has a limit (> 0) in the
 * current minute window, in one round trip. On RL_LIMITED *retry_after is
 * the seconds until the window ends. Keys are short ids ("ip:1.2.3.4").
 */
enum rl_result redis_rate_limit(const char *key1, int limit1, const char *key2, int limit2,
				int *retry_after);

#endif
