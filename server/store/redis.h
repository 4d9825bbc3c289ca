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

enum redis_status { REDIS_OK, REDIS_MISSING, REDIS_FAIL };

/*
 * Small key/value operations for sessions and sign-in state. Keys are
 * prefixed with ATRIUM_REDIS_PREFIX here. Returned values are heap strings
 * the caller frees.
 */
enum redis_status redis_set_ex(const char *key, const char *value, int ttl_s);
/* GET with the TTL reset to ttl_s (sliding expiry), one round trip. */
enum redis_status redis_get_touch(const char *key, int ttl_s, char **value);
/* GET and delete atomically (single-use values). */
enum redis_status redis_get_del(const char *key, char **value);
enum redis_status redis_del(const char *key);

enum rl_result { RL_ALLOW, RL_LIMITED, RL_ERROR };

/*
 * Counts one request against each key that has a limit (> 0) in the
 * current minute window, in one round trip. On RL_LIMITED *retry_after is
 * the seconds until the window ends (set whatever the result). Keys are
 * short ids ("ip:1.2.3.4"). *remaining (may be NULL) gets the smallest
 * quota left of the keys counted, approximate: replicas lease quota from
 * Redis in chunks and do not see each other's unspent leases; -1 when no
 * key was counted (Redis failed).
 */
enum rl_result redis_rate_limit(const char *key1, int limit1, const char *key2, int limit2,
				int *retry_after, int *remaining);

#endif
