/*
 * redis.c - per-thread hiredis contexts and the rate limiter.
 */
#include "server/store/redis.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/common/util.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *host, *sock_path, *password;
static int port = 6379, dbnum;
static pthread_key_t ctx_key;
static bool key_made;

static void free_ctx(void *p)
{
	if (p)
		redisFree(p);
}

bool redis_start(void)
{
	const char *u = cfg.redis_url;
	if (strncmp(u, "unix://", 7) == 0) {
		sock_path = xstrdup(u + 7);
	} else if (strncmp(u, "redis://", 8) == 0) {
		const char *p = u + 8;
		const char *at = strchr(p, '@');
		if (at) {
			const char *colon = memchr(p, ':', (size_t)(at - p));
			const char *pw = colon ? colon + 1 : p;
			password = xstrndup(pw, (size_t)(at - pw));
			p = at + 1;
		}
		const char *slash = strchr(p, '/');
		char *hp = slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup(p);
		char *colon = strrchr(hp, ':');
		if (colon) {
			*colon = '\0';
			port = atoi(colon + 1);
		}
		host = hp;
		if (slash && slash[1])
			dbnum = atoi(slash + 1);
		if (port <= 0 || port > 65535 || *host == '\0') {
			fprintf(stderr, "atrium: ATRIUM_REDIS_URL is malformed\n");
			return false;
		}
	} else {
		fprintf(stderr, "atrium: ATRIUM_REDIS_URL must start with redis:// or unix://\n");
		return false;
	}
	pthread_key_create(&ctx_key, free_ctx);
	key_made = true;
	return true;
}

void redis_stop(void)
{
	if (key_made) {
		free_ctx(pthread_getspecific(ctx_key));
		pthread_setspecific(ctx_key, NULL);
	}
	free(host);
	free(sock_path);
	free(password);
	host = sock_path = password = NULL;
}

static redisContext *ctx(void)
{
	redisContext *c = pthread_getspecific(ctx_key);
	if (c && c->err == 0)
		return c;
	if (c) {
		redisFree(c);
		pthread_setspecific(ctx_key, NULL);
	}
	struct timeval tv = {.tv_sec = 0, .tv_usec = 500000};
	c = sock_path ? redisConnectUnixWithTimeout(sock_path, tv)
		      : redisConnectWithTimeout(host, port, tv);
	if (c == NULL || c->err) {
		metrics_inc(M_REDIS_ERRORS);
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (password) {
		redisReply *rep = redisCommand(c, "AUTH %s", password);
		bool ok = rep && rep->type != REDIS_REPLY_ERROR;
		freeReplyObject(rep);
		if (!ok) {
			log_error("redis: AUTH failed");
			redisFree(c);
			return NULL;
		}
	}
	if (dbnum) {
		redisReply *rep = redisCommand(c, "SELECT %d", dbnum);
		freeReplyObject(rep);
	}
	pthread_setspecific(ctx_key, c);
	return c;
}

static void drop(redisContext *c)
{
	metrics_inc(M_REDIS_ERRORS);
	redisFree(c);
	pthread_setspecific(ctx_key, NULL);
}

/*
 * Runs one command; when a connection this thread reused turns out to be
 * dead (the server restarted, a proxy or Azure dropped it while idle), it
 * reconnects and tries once more. NULL when Redis stays unreachable.
 */
static redisReply *command(const char *fmt, ...)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = pthread_getspecific(ctx_key) != NULL;
		redisContext *c = ctx();
		if (c == NULL)
			return NULL;
		va_list ap;
		va_start(ap, fmt);
		uint64_t t0 = util_now_ns();
		redisReply *rep = redisvCommand(c, fmt, ap);
		metrics_redis_command(util_now_ns() - t0);
		va_end(ap);
		if (rep)
			return rep;
		drop(c);
		if (!reused)
			break;
	}
	return NULL;
}

bool redis_ping(void)
{
	redisReply *rep = command("PING");
	bool ok = rep && rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	return ok;
}

/*
 * Rate limits with quota leases. Redis holds the authoritative count per
 * key and minute window; each process claims a chunk of the quota at a
 * time (INCRBY) and spends it locally, so a request costs a Redis round
 * trip only once per chunk. The count can overshoot by at most one chunk
 * per replica; chunks are a twentieth of the limit (at most 50), so a small
 * limit is counted exactly. Once Redis reports the window exhausted, the
 * key stays limited locally until the window ends.
 */
#define RL_SLOTS 4096
#define RL_STRIPES 32

struct rl_slot {
	char key[160];
	long window;
	long long granted;   /* quota claimed from Redis in this window */
	long long used;      /* spent locally */
	long long counted;   /* the window's count in Redis at our last claim */
	bool limited;
};

static struct rl_slot rl_slots[RL_SLOTS];
static pthread_mutex_t rl_mu[RL_STRIPES] = {
	[0 ... RL_STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER,
};

static size_t rl_hash(const char *key)
{
	size_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h % RL_SLOTS;
}

/* Claims up to `chunk` more requests of `key`'s quota from Redis. */
static enum rl_result rl_claim(struct rl_slot *s, int limit, long window)
{
	long long chunk = limit / 20;
	if (chunk < 1)
		chunk = 1;
	if (chunk > 50)
		chunk = 50;
	char name[320];
	snprintf(name, sizeof(name), "%srl:%s:%ld", cfg.redis_prefix, s->key, window);
	/* Two round trips, once per chunk: each retried on a stale connection
	 * (a retried INCRBY can only over-count, the safe side). */
	redisReply *incr = command("INCRBY %s %lld", name, chunk);
	if (incr == NULL)
		return RL_ERROR;
	redisReply *exp = command("EXPIRE %s 61", name);
	enum rl_result res = RL_ERROR;
	if (incr->type == REDIS_REPLY_INTEGER) {
		long long before = incr->integer - chunk;
		long long room = limit - before;
		s->counted = incr->integer;
		if (room <= 0) {
			s->limited = true;
			res = RL_LIMITED;
		} else {
			s->granted += room < chunk ? room : chunk;
			res = RL_ALLOW;
		}
	}
	freeReplyObject(incr);
	freeReplyObject(exp);
	return res;
}

/*
 * What is left of `limit` as far as this replica knows: the room Redis had
 * at our last claim plus our unspent lease. Other replicas' leases and
 * claims since then are not seen, so it is an upper bound, exact for small
 * limits (a chunk of one).
 */
static long long rl_remaining(const struct rl_slot *s, int limit)
{
	if (s->limited)
		return 0;
	long long room = limit - (s->counted < limit ? s->counted : limit);
	long long left = room + (s->granted - s->used);
	return left < 0 ? 0 : left > limit ? limit : left;
}

static enum rl_result rl_take(const char *key, int limit, long window, long long *remaining)
{
	size_t h = rl_hash(key);
	pthread_mutex_t *m = &rl_mu[h % RL_STRIPES];
	pthread_mutex_lock(m);
	struct rl_slot *s = &rl_slots[h];
	if (strcmp(s->key, key) != 0 || s->window != window) {
		/* A new window, or another key took this slot: start afresh (a
		 * collision at worst makes us claim from Redis sooner). */
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->window = window;
		s->granted = s->used = s->counted = 0;
		s->limited = false;
	}
	enum rl_result res = RL_ALLOW;
	if (s->limited)
		res = RL_LIMITED;
	else if (s->used >= s->granted)
		res = rl_claim(s, limit, window);
	if (res == RL_ALLOW)
		s->used++;
	*remaining = rl_remaining(s, limit);
	pthread_mutex_unlock(m);
	return res;
}

enum rl_result redis_rate_limit(const char *key1, int limit1, const char *key2, int limit2,
				int *retry_after, int *remaining)
{
	time_t now = time(NULL);
	long window = (long)(now / 60);
	*retry_after = (int)(60 - now % 60);
	if (remaining)
		*remaining = -1;
	enum rl_result res = RL_ALLOW;
	const char *keys[2] = {key1, key2};
	int limits[2] = {limit1, limit2};
	for (int i = 0; i < 2; i++) {
		if (keys[i] == NULL || limits[i] <= 0)
			continue;
		long long left = 0;
		enum rl_result r = rl_take(keys[i], limits[i], window, &left);
		if (r != RL_ERROR && remaining && (*remaining < 0 || left < *remaining))
			*remaining = (int)left;
		if (r == RL_LIMITED)
			return RL_LIMITED;
		if (r == RL_ERROR)
			res = RL_ERROR;
	}
	return res;
}

/* ---- key/value ------------------------------------------------------- */

static enum redis_status string_reply(redisReply *rep, char **value)
{
	if (rep == NULL)
		return REDIS_FAIL;
	enum redis_status st = REDIS_FAIL;
	if (rep->type == REDIS_REPLY_NIL) {
		st = REDIS_MISSING;
	} else if (rep->type == REDIS_REPLY_STRING) {
		*value = xstrndup(rep->str, rep->len);
		st = REDIS_OK;
	} else if (rep->type == REDIS_REPLY_ERROR) {
		log_error("redis: %s", rep->str);
		metrics_inc(M_REDIS_ERRORS);
	}
	freeReplyObject(rep);
	return st;
}

enum redis_status redis_set_ex(const char *key, const char *value, int ttl_s)
{
	redisReply *rep = command("SET %s%s %s EX %d", cfg.redis_prefix, key, value, ttl_s);
	if (rep == NULL)
		return REDIS_FAIL;
	bool ok = rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	return ok ? REDIS_OK : REDIS_FAIL;
}

enum redis_status redis_get_touch(const char *key, int ttl_s, char **value)
{
	return string_reply(command("GETEX %s%s EX %d", cfg.redis_prefix, key, ttl_s), value);
}

enum redis_status redis_get_del(const char *key, char **value)
{
	return string_reply(command("GETDEL %s%s", cfg.redis_prefix, key), value);
}

enum redis_status redis_del(const char *key)
{
	redisReply *rep = command("DEL %s%s", cfg.redis_prefix, key);
	if (rep == NULL)
		return REDIS_FAIL;
	freeReplyObject(rep);
	return REDIS_OK;
}
