/*
 * outbound.h - every HTTP call Atrium makes: the worker's to Azure (Entra,
 * ARM, Blob) and the identity provider's discovery, keys and token
 * endpoint (server/auth). One libcurl exchange with timeouts, a bounded
 * response body and the headers the protocols need, plus the ONE place
 * where an answer is classified as success, retryable or permanent. The
 * only module that touches libcurl (scripts/check-layers).
 *
 * The clients (azure_token.c, arm.c, blob.c) build requests, call
 * outbound_perform(), then outbound_result_from() to turn the answer into a
 * struct outbound_result that the job steps map onto JOB_OK / JOB_RETRY /
 * JOB_FAIL. Every exchange is counted in metrics by target and outcome,
 * with its latency.
 *
 * Never pass secrets to the log: bodies are not logged, and the token
 * request's body is built by azure_token.c only.
 */
#ifndef ATRIUM_OUTBOUND_H
#define ATRIUM_OUTBOUND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Who is called, for metrics and error messages. */
enum outbound_target { OUT_ENTRA, OUT_ARM, OUT_BLOB, OUT_IDP, OUT_PAX8, OUT_INTUIT, OUT_TARGET_COUNT };

/* What the call means to do: an "already exists" answer to a create and a
 * "not found" answer to a delete both mean the goal is reached. */
enum outbound_verb { OUT_READ, OUT_CREATE, OUT_DELETE };

enum outbound_class {
	OUT_OK,         /* done (or already so) */
	OUT_RETRY,      /* transient: throttled, 5xx, network, timeout */
	OUT_PERMANENT,  /* the request is refused for good */
};

/* Who asks: the job's request id travels as x-ms-client-request-id, and
 * long waits (operation polling) end early once stopping() says so. */
struct outbound_ctx {
	const char *request_id;      /* may be NULL */
	bool (*stopping)(void);      /* may be NULL */
};

/* Largest response body read; a larger one fails the call (retryable). */
#define OUTBOUND_MAX_BODY (1024 * 1024)

struct outbound_request {
	enum outbound_target target;
	const char *method;          /* "GET", "PUT", "DELETE", "POST" */
	const char *url;
	const char *const *headers;  /* "Name: value", NULL-terminated; may be NULL */
	const char *body;            /* NULL: none */
	size_t body_len;
	int timeout_ms;              /* whole exchange; 0: ATRIUM_OUTBOUND_TIMEOUT_MS */
	/* Follow up to 3 redirects, to https only. Never for a request that
	 * carries credentials: they must not travel to another host. */
	bool follow_redirects;
	/* A body larger than OUTBOUND_MAX_BODY (blob downloads): its limit
	 * here (0: the default). With `sink`, the body is handed to it piece
	 * by piece (and not kept in the response); `len` still counts it. */
	size_t max_body;
	void (*sink)(const char *p, size_t n, void *arg);
	void *sink_arg;
};

struct outbound_response {
	long status;                 /* 0 when no complete HTTP answer arrived */
	int curl_code;               /* CURLcode; 0 when the exchange completed */
	bool too_large;              /* the body exceeded OUTBOUND_MAX_BODY */
	char error[256];             /* libcurl's error text when curl_code != 0 */
	char *body;                  /* heap, NUL-terminated, may be NULL */
	size_t len;
	/* Headers the protocols use (heap copies, NULL when absent). */
	char *retry_after;
	char *location;
	char *async_operation;       /* Azure-AsyncOperation */
	char *ms_error_code;         /* x-ms-error-code (Storage) */
	char *content_type;          /* Content-Type */
	/* Copied from the request by outbound_perform() for the body callback. */
	size_t limit;
	void (*sink)(const char *p, size_t n, void *arg);
	void *sink_arg;
	uint64_t duration_ns;
};

/* The outcome of a call as the job steps see it. */
struct outbound_result {
	enum outbound_class cls;
	long status;                 /* final HTTP status, 0 if none */
	char code[128];              /* Azure's error code, or ours: NetworkError, Timeout, ... */
	char message[2048];          /* Azure's message, "..." marks one cut short */
	int retry_after_ms;          /* from Retry-After, 0 when absent */
	bool already;                /* OK because it already existed / was already gone */
	json_t *body;                /* the final answer's JSON body, owned; may be NULL */
};

/*
 * Runs one exchange. Always fills *resp (free it with
 * outbound_response_free()); returns true when an HTTP answer arrived.
 * Counts the call in metrics (target, outcome, latency).
 */
bool outbound_perform(const struct outbound_request *req, struct outbound_response *resp);
void outbound_response_free(struct outbound_response *resp);

/*
 * THE classification. curl_code != 0 (no complete answer) is retryable;
 * 2xx is OK; for OUT_DELETE a 404 is OK (already gone); for OUT_CREATE a
 * 409 whose code says it already exists is OK; 408, 429, 5xx and 401 (an
 * expired token; the caller gets a new one) are retryable, as are the 4xx
 * codes Azure documents as transient (Entra replication delay, a group
 * still being deleted); every other status is permanent.
 */
enum outbound_class outbound_classify(enum outbound_verb verb, long status, int curl_code,
				      const char *error_code, bool *already);

/*
 * Turns an answer into a result: classification, Azure's error code and
 * message (ARM's {error:{code,message}}, Entra's {error,
 * error_description}, Storage's x-ms-error-code), Retry-After, and the
 * parsed JSON body (moved into out->body). `what` names the call for
 * messages ("PUT resource group x"). Clears *out first.
 */
void outbound_result_from(enum outbound_verb verb, const struct outbound_request *req,
			  const struct outbound_response *resp, const char *what,
			  struct outbound_result *out);
void outbound_result_clear(struct outbound_result *r);
/* Sets a result by hand (for checks made before any call). */
void outbound_result_set(struct outbound_result *r, enum outbound_class cls, const char *code,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Retry-After: delta seconds or an HTTP-date, in milliseconds from `now`
 * (wall seconds), capped at cap_ms. -1 when absent or unparseable.
 */
int outbound_retry_after_ms(const char *value, int64_t now, int cap_ms);

/* "arm", "blob", "entra", "idp". */
const char *outbound_target_name(enum outbound_target t);

/* Percent-encodes s for a URL query or form value: heap, caller frees. */
char *outbound_escape(const char *s);

/* Once per process, before any thread calls out; and at exit. */
void outbound_global_init(void);
void outbound_global_cleanup(void);
/* libcurl's version text, for `atrium version`. */
const char *outbound_library_version(void);

#endif
