/*
 * redis.c - per-thread hiredis contexts and the rate limiter.
 */
#include "redis.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
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

bool redis_ping(void)
{
	redisContext *c = ctx();
	if (c == NULL)
		return false;
	redisReply *rep = redisCommand(c, "PING");
	bool ok = rep && rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	if (rep == NULL)
		drop(c);
	return ok;
}

enum rl_result redis_rate_limit(const char *key1, int limit1, const char *key2, int limit2,
				int *retry_after)
{
	const char *keys[2] = {key1, key2};
	int limits[2] = {limit1, limit2};
	time_t now = time(NULL);
	long window = (long)(now / 60);
	*retry_after = (int)(60 - now % 60);

	redisContext *c = ctx();
	if (c == NULL)
		return RL_ERROR;
	int sent = 0;
	char names[2][320];
	for (int i = 0; i < 2; i++) {
		if (keys[i] == NULL || limits[i] <= 0)
			continue;
		snprintf(names[i], sizeof(names[i]), "%srl:%s:%ld", cfg.redis_prefix, keys[i], window);
		redisAppendCommand(c, "INCR %s", names[i]);
		redisAppendCommand(c, "EXPIRE %s 61", names[i]);
		sent++;
	}
	enum rl_result res = RL_ALLOW;
	for (int i = 0; i < 2; i++) {
		if (keys[i] == NULL || limits[i] <= 0)
			continue;
		redisReply *incr = NULL, *exp = NULL;
		if (redisGetReply(c, (void **)&incr) != REDIS_OK ||
		    redisGetReply(c, (void **)&exp) != REDIS_OK) {
			freeReplyObject(incr);
			drop(c);
			return RL_ERROR;
		}
		if (incr->type == REDIS_REPLY_INTEGER && incr->integer > limits[i])
			res = RL_LIMITED;
		else if (incr->type != REDIS_REPLY_INTEGER)
			res = res == RL_LIMITED ? res : RL_ERROR;
		freeReplyObject(incr);
		freeReplyObject(exp);
	}
	(void)sent;
	return res;
}

/* ---- key/value ------------------------------------------------------- */

static enum redis_status string_reply(redisContext *c, redisReply *rep, char **value)
{
	if (rep == NULL) {
		drop(c);
		return REDIS_FAIL;
	}
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
	redisContext *c = ctx();
	if (c == NULL)
		return REDIS_FAIL;
	redisReply *rep = redisCommand(c, "SET %s%s %s EX %d", cfg.redis_prefix, key, value, ttl_s);
	if (rep == NULL) {
		drop(c);
		return REDIS_FAIL;
	}
	bool ok = rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	return ok ? REDIS_OK : REDIS_FAIL;
}

enum redis_status redis_get_touch(const char *key, int ttl_s, char **value)
{
	redisContext *c = ctx();
	if (c == NULL)
		return REDIS_FAIL;
	return string_reply(c, redisCommand(c, "GETEX %s%s EX %d", cfg.redis_prefix, key, ttl_s), value);
}

enum redis_status redis_get_del(const char *key, char **value)
{
	redisContext *c = ctx();
	if (c == NULL)
		return REDIS_FAIL;
	return string_reply(c, redisCommand(c, "GETDEL %s%s", cfg.redis_prefix, key), value);
}

enum redis_status redis_del(const char *key)
{
	redisContext *c = ctx();
	if (c == NULL)
		return REDIS_FAIL;
	redisReply *rep = redisCommand(c, "DEL %s%s", cfg.redis_prefix, key);
	if (rep == NULL) {
		drop(c);
		return REDIS_FAIL;
	}
	freeReplyObject(rep);
	return REDIS_OK;
}
