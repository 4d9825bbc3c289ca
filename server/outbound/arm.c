/*
 * arm.c - Azure Resource Manager calls and long-running operations.
 * See arm.h.
 */
#include "server/outbound/arm.h"
#include "server/outbound/azure_token.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Atrium's UUID namespace for name-based ids (a fixed random UUID). */
#define ATRIUM_UUID_NAMESPACE "66f8c88a-b976-4cca-ae8d-e95fb76ddf36"

/* Bounds on the wait between two polls of an operation. */
#define POLL_MIN_MS 50
#define POLL_MAX_MS 60000

/* ---- ids ---------------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool arm_uuid_v5(const char *ns, const char *name, char out[37])
{
	if (!util_is_uuid(ns))
		return false;
	unsigned char buf[16];
	for (int i = 0, j = 0; i < 16; j++) {
		if (ns[j] == '-')
			continue;
		buf[i++] = (unsigned char)(hexval(ns[j]) << 4 | hexval(ns[j + 1]));
		j++;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) && EVP_DigestUpdate(c, buf, sizeof(buf)) &&
		  EVP_DigestUpdate(c, name, strlen(name)) && EVP_DigestFinal_ex(c, md, &mdlen) &&
		  mdlen >= 16;
	EVP_MD_CTX_free(c);
	if (!ok)
		return false;
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 */
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11],
		 md[12], md[13], md[14], md[15]);
	return true;
}

void arm_role_assignment_guid(const char *tenant_id, const char *namespace_name,
			      const char *role_guid, char out[37])
{
	char *name = xasprintf("%s/%s/%s", tenant_id, namespace_name, role_guid);
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!arm_uuid_v5(ATRIUM_UUID_NAMESPACE, name, out))
		abort(); /* the namespace constant is a UUID */
	free(name);
}

char *arm_resource_group_id(const char *name)
{
	return xasprintf("/subscriptions/%s/resourceGroups/%s",
			 cfg.azure_subscription_id ? cfg.azure_subscription_id : "", name);
}

char *arm_role_assignment_id(const char *resource_group, const char *guid)
{
	return xasprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Authorization/"
			 "roleAssignments/%s",
			 cfg.azure_subscription_id ? cfg.azure_subscription_id : "", resource_group, guid);
}

bool arm_same_origin(const char *base, const char *url)
{
	CURLU *a = curl_url(), *b = curl_url();
	char *as = NULL, *ah = NULL, *ap = NULL, *bs = NULL, *bh = NULL, *bp = NULL;
	bool same = false;
	if (a && b && curl_url_set(a, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(b, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(a, CURLUPART_SCHEME, &as, 0) == CURLUE_OK &&
	    curl_url_get(b, CURLUPART_SCHEME, &bs, 0) == CURLUE_OK &&
	    curl_url_get(a, CURLUPART_HOST, &ah, 0) == CURLUE_OK &&
	    curl_url_get(b, CURLUPART_HOST, &bh, 0) == CURLUE_OK &&
	    curl_url_get(a, CURLUPART_PORT, &ap, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    curl_url_get(b, CURLUPART_PORT, &bp, CURLU_DEFAULT_PORT) == CURLUE_OK)
		same = strcasecmp(as, bs) == 0 && strcasecmp(ah, bh) == 0 && strcmp(ap, bp) == 0;
	curl_free(as);
	curl_free(ah);
	curl_free(ap);
	curl_free(bs);
	curl_free(bh);
	curl_free(bp);
	curl_url_cleanup(a);
	curl_url_cleanup(b);
	return same;
}

/* ---- one authenticated exchange ---------------------------------------- */

/*
 * Sends method+url with the ARM token; on a 401 gets a fresh token and
 * tries once more. False (with *err set, *resp empty) when no token could
 * be had; otherwise *resp holds the answer (the caller frees it).
 */
static bool exchange(const struct outbound_ctx *ctx, const char *method, const char *url,
		     const char *json, struct outbound_response *resp, struct outbound_request *req,
		     struct outbound_result *err)
{
	memset(resp, 0, sizeof(*resp));
	for (int attempt = 0; attempt < 2; attempt++) {
		char *token = NULL;
		if (!azure_token_get(&token, err)) {
			outbound_response_free(resp);
			return false;
		}
		char *auth = xasprintf("Authorization: Bearer %s", token);
		char *rid = ctx && ctx->request_id && *ctx->request_id
				    ? xasprintf("x-ms-client-request-id: %s", ctx->request_id)
				    : NULL;
		const char *headers[] = {auth, "Accept: application/json",
					 json ? "Content-Type: application/json" : "Content-Type:",
					 rid, NULL};
		*req = (struct outbound_request){.target = OUT_ARM, .method = method, .url = url,
						  .headers = headers, .body = json,
						  .body_len = json ? strlen(json) : 0};
		outbound_response_free(resp);
		outbound_perform(req, resp);
		req->headers = NULL; /* they die here */
		OPENSSL_cleanse(auth, strlen(auth));
		free(auth);
		free(rid);
		if (resp->status == 401 && attempt == 0) {
			log_info("arm: %s %s answered 401; getting a new token", method, url);
			azure_token_invalidate(token);
			free(token);
			continue;
		}
		free(token);
		break;
	}
	return true;
}

/* Sleeps ms in slices, false as soon as the worker is stopping. */
static bool nap(const struct outbound_ctx *ctx, int ms)
{
	while (ms > 0) {
		if (ctx && ctx->stopping && ctx->stopping())
			return false;
		int s = ms > 100 ? 100 : ms;
		usleep((useconds_t)s * 1000);
		ms -= s;
	}
	return !(ctx && ctx->stopping && ctx->stopping());
}

static int poll_delay(const struct outbound_response *resp)
{
	int ms = outbound_retry_after_ms(resp->retry_after, util_now_s(), POLL_MAX_MS);
	if (ms < 0)
		ms = cfg.arm_poll_interval_ms;
	return ms < POLL_MIN_MS ? POLL_MIN_MS : ms > POLL_MAX_MS ? POLL_MAX_MS : ms;
}

/* Copies a failed poll's verdict into out, keeping out->body. */
static void take_failure(struct outbound_result *out, struct outbound_result *poll)
{
	out->cls = poll->cls;
	out->status = poll->status;
	out->retry_after_ms = poll->retry_after_ms;
	snprintf(out->code, sizeof(out->code), "%s", poll->code);
	snprintf(out->message, sizeof(out->message), "%s", poll->message);
}

/*
 * Follows an operation from its first answer `first` (201/202 with
 * Azure-AsyncOperation or Location) until it ends. out holds the first
 * answer's OK result on entry and the final verdict on return.
 */
static void follow(const struct outbound_ctx *ctx, const struct outbound_response *first,
		   const char *what, struct outbound_result *out)
{
	bool async = first->async_operation != NULL;
	char *url = xstrdup(async ? first->async_operation : first->location);
	int delay = poll_delay(first);
	uint64_t deadline = util_now_ns() + (uint64_t)cfg.arm_lro_timeout_s * 1000000000ULL;
	struct outbound_result poll = {0};
	for (int polls = 1;; polls++) {
		if (!arm_same_origin(cfg.arm_url, url)) {
			outbound_result_set(out, OUT_PERMANENT, "UntrustedOperationUrl",
					    "%s: ARM named an operation URL outside %s; not followed", what,
					    cfg.arm_url);
			break;
		}
		if (!nap(ctx, delay)) {
			outbound_result_set(out, OUT_RETRY, "Interrupted",
					    "%s: the worker stopped while the operation ran; it will be "
					    "followed again", what);
			out->retry_after_ms = 1;
			break;
		}
		if (util_now_ns() > deadline) {
			outbound_result_set(out, OUT_RETRY, "OperationTimedOut",
					    "%s: the operation did not finish within %d s", what,
					    cfg.arm_lro_timeout_s);
			break;
		}
		struct outbound_response resp;
		struct outbound_request req;
		if (!exchange(ctx, "GET", url, NULL, &resp, &req, &poll)) {
			take_failure(out, &poll);
			break;
		}
		char *pwhat = xasprintf("%s (poll %d)", what, polls);
		outbound_result_from(OUT_READ, &req, &resp, pwhat, &poll);
		free(pwhat);
		if (poll.cls != OUT_OK) {
			take_failure(out, &poll);
			outbound_response_free(&resp);
			break;
		}
		if (async) {
			/* Azure-AsyncOperation: 200 with {status, error?}. */
			const char *st = json_string_value(json_object_get(poll.body, "status"));
			if (st && strcasecmp(st, "Succeeded") == 0) {
				outbound_response_free(&resp);
				break;
			}
			if (st && (strcasecmp(st, "Failed") == 0 || strcasecmp(st, "Canceled") == 0)) {
				json_t *e = json_object_get(poll.body, "error");
				const char *code = json_string_value(json_object_get(e, "code"));
				const char *msg = json_string_value(json_object_get(e, "message"));
				bool failed = strcasecmp(st, "Failed") == 0;
				outbound_result_set(out, OUT_PERMANENT,
						    code ? code : failed ? "OperationFailed" : "OperationCanceled",
						    "%s", msg ? msg : failed ? "The operation failed." : "The operation was canceled.");
				outbound_response_free(&resp);
				break;
			}
		} else if (resp.status != 202) {
			/* Location: 202 while running, then 200/204 when done. */
			outbound_response_free(&resp);
			break;
		} else if (resp.location) {
			free(url);
			url = xstrdup(resp.location);
		}
		delay = poll_delay(&resp);
		outbound_response_free(&resp);
	}
	outbound_result_clear(&poll);
	free(url);
}

void arm_call(const struct outbound_ctx *ctx, const char *method, const char *path, json_t *body,
	      enum outbound_verb verb, const char *what, struct outbound_result *out)
{
	outbound_result_clear(out);
	if (cfg.azure_subscription_id == NULL || !util_is_uuid(cfg.azure_subscription_id)) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationMissing",
				    "ATRIUM_AZURE_SUBSCRIPTION_ID must be set to a subscription id");
		return;
	}
	size_t blen = strlen(cfg.arm_url);
	while (blen > 0 && cfg.arm_url[blen - 1] == '/')
		blen--;
	char *url = xasprintf("%.*s%s", (int)blen, cfg.arm_url, path);
	char *json = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct outbound_response resp;
	struct outbound_request req;
	if (exchange(ctx, method, url, json, &resp, &req, out)) {
		outbound_result_from(verb, &req, &resp, what, out);
		bool lro = out->cls == OUT_OK && !out->already &&
			   (resp.async_operation || (resp.status == 202 && resp.location));
		if (lro)
			follow(ctx, &resp, what, out);
		outbound_response_free(&resp);
	}
	free(json);
	free(url);
}

/* ---- resources ----------------------------------------------------------- */

void arm_resource_group_put(const struct outbound_ctx *ctx, const char *name, const char *location,
			    json_t *tags, struct outbound_result *out)
{
	char *path = xasprintf("/subscriptions/%s/resourcegroups/%s?api-version=" ARM_API_RESOURCE_GROUPS,
			       cfg.azure_subscription_id ? cfg.azure_subscription_id : "", name);
	char *what = xasprintf("PUT resource group %s", name);
	json_t *body = json_pack("{s:s, s:O}", "location", location, "tags", tags ? tags : json_object());
	arm_call(ctx, "PUT", path, body, OUT_CREATE, what, out);
	json_decref(body);
	free(what);
	free(path);
}

void arm_resource_group_get(const struct outbound_ctx *ctx, const char *name,
			    struct outbound_result *out)
{
	char *path = xasprintf("/subscriptions/%s/resourcegroups/%s?api-version=" ARM_API_RESOURCE_GROUPS,
			       cfg.azure_subscription_id ? cfg.azure_subscription_id : "", name);
	char *what = xasprintf("GET resource group %s", name);
	arm_call(ctx, "GET", path, NULL, OUT_READ, what, out);
	free(what);
	free(path);
}

void arm_resource_group_delete(const struct outbound_ctx *ctx, const char *name,
			       struct outbound_result *out)
{
	char *path = xasprintf("/subscriptions/%s/resourcegroups/%s?api-version=" ARM_API_RESOURCE_GROUPS,
			       cfg.azure_subscription_id ? cfg.azure_subscription_id : "", name);
	char *what = xasprintf("DELETE resource group %s", name);
	arm_call(ctx, "DELETE", path, NULL, OUT_DELETE, what, out);
	free(what);
	free(path);
}

/* The id ARM names in "The ID of the existing role assignment is <32 hex>." */
static bool existing_assignment(const char *msg, char out[37])
{
	const char *found = NULL;
	for (const char *p = msg; p && *p; p++) {
		int n = 0;
		while (n < 33 && isxdigit((unsigned char)p[n]))
			n++;
		if (n == 32)
			found = p;
		if (n)
			p += n - 1;
	}
	if (found == NULL)
		return false;
	char h[33];
	for (int i = 0; i < 32; i++)
		h[i] = (char)tolower((unsigned char)found[i]);
	h[32] = '\0';
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
	return true;
}

/* A resource group's role assignments are scoped ones, the group's ARM id
 * their scope (arm_scoped_role_assignment_* below). */
void arm_role_assignment_get(const struct outbound_ctx *ctx, const char *resource_group,
			     const char *guid, struct outbound_result *out)
{
	char *scope = arm_resource_group_id(resource_group);
	arm_scoped_role_assignment_get(ctx, scope, guid, out);
	free(scope);
}

void arm_role_assignment_delete(const struct outbound_ctx *ctx, const char *resource_group,
				const char *guid, struct outbound_result *out)
{
	char *scope = arm_resource_group_id(resource_group);
	arm_scoped_role_assignment_delete(ctx, scope, guid, out);
	free(scope);
}

void arm_role_assignment_put(const struct outbound_ctx *ctx, const char *resource_group,
			     const char *guid, const char *role_guid, const char *principal_id,
			     struct outbound_result *out)
{
	char *scope = arm_resource_group_id(resource_group);
	arm_scoped_role_assignment_put(ctx, scope, guid, role_guid, principal_id,
				       "Atrium: the tenant's admin group manages its namespace", out);
	free(scope);
}

/* ---- AKS managed namespaces --------------------------------------------- */

char *arm_managed_namespace_id(const char *cluster_id, const char *name)
{
	return xasprintf("%s/managedNamespaces/%s", cluster_id, name);
}

void arm_managed_cluster_get(const struct outbound_ctx *ctx, const char *cluster_id,
			     struct outbound_result *out)
{
	char *path = xasprintf("%s?api-version=" ARM_API_MANAGED_CLUSTERS, cluster_id);
	char *what = xasprintf("GET managed cluster %s", cluster_id);
	arm_call(ctx, "GET", path, NULL, OUT_READ, what, out);
	free(what);
	free(path);
}

void arm_managed_namespace_put(const struct outbound_ctx *ctx, const char *cluster_id,
			       const struct arm_managed_namespace *ns, struct outbound_result *out)
{
	char *id = arm_managed_namespace_id(cluster_id, ns->name);
	char *path = xasprintf("%s?api-version=" ARM_API_MANAGED_NAMESPACES, id);
	char *what = xasprintf("PUT managed namespace %s", ns->name);
	json_t *body = json_pack(
		"{s:s, s:{s:O, s:O, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s}, s:s, s:s}}", "location",
		ns->location, "properties", "labels", ns->labels, "annotations", ns->annotations,
		"defaultResourceQuota", "cpuRequest", ns->cpu_request, "cpuLimit", ns->cpu_limit,
		"memoryRequest", ns->memory_request, "memoryLimit", ns->memory_limit,
		"defaultNetworkPolicy", "ingress", ns->ingress, "egress", ns->egress,
		"adoptionPolicy", ns->adoption_policy, "deletePolicy", ns->delete_policy);
	if (body == NULL) {
		outbound_result_clear(out);
		outbound_result_set(out, OUT_PERMANENT, "InvalidNamespace",
				    "%s: the namespace's definition is incomplete", what);
	} else {
		/* A 409 here is a refusal (a Kubernetes namespace of that name
		 * that ARM does not manage, adoptionPolicy Never): permanent. */
		arm_call(ctx, "PUT", path, body, OUT_CREATE, what, out);
	}
	json_decref(body);
	free(what);
	free(path);
	free(id);
}

void arm_managed_namespace_get(const struct outbound_ctx *ctx, const char *cluster_id,
			       const char *name, struct outbound_result *out)
{
	char *path = xasprintf("%s/managedNamespaces/%s?api-version=" ARM_API_MANAGED_NAMESPACES,
			       cluster_id, name);
	char *what = xasprintf("GET managed namespace %s", name);
	arm_call(ctx, "GET", path, NULL, OUT_READ, what, out);
	free(what);
	free(path);
}

void arm_managed_namespace_delete(const struct outbound_ctx *ctx, const char *cluster_id,
				  const char *name, struct outbound_result *out)
{
	char *path = xasprintf("%s/managedNamespaces/%s?api-version=" ARM_API_MANAGED_NAMESPACES,
			       cluster_id, name);
	char *what = xasprintf("DELETE managed namespace %s", name);
	arm_call(ctx, "DELETE", path, NULL, OUT_DELETE, what, out);
	free(what);
	free(path);
}

static char *scoped_assignment_path(const char *scope, const char *guid)
{
	return xasprintf("%s/providers/Microsoft.Authorization/roleAssignments/%s?api-version="
			 ARM_API_ROLE_ASSIGNMENTS, scope, guid);
}

void arm_scoped_role_assignment_get(const struct outbound_ctx *ctx, const char *scope,
				    const char *guid, struct outbound_result *out)
{
	char *path = scoped_assignment_path(scope, guid);
	char *what = xasprintf("GET role assignment %s on %s", guid, scope);
	arm_call(ctx, "GET", path, NULL, OUT_READ, what, out);
	free(what);
	free(path);
}

void arm_scoped_role_assignment_delete(const struct outbound_ctx *ctx, const char *scope,
				       const char *guid, struct outbound_result *out)
{
	char *path = scoped_assignment_path(scope, guid);
	char *what = xasprintf("DELETE role assignment %s on %s", guid, scope);
	arm_call(ctx, "DELETE", path, NULL, OUT_DELETE, what, out);
	free(what);
	free(path);
}

void arm_scoped_role_assignment_put(const struct outbound_ctx *ctx, const char *scope,
				    const char *guid, const char *role_guid,
				    const char *principal_id, const char *description,
				    struct outbound_result *out)
{
	/* The scope's subscription: "/subscriptions/<id>/...". */
	char sub[128] = "";
	if (strncasecmp(scope, "/subscriptions/", 15) == 0)
		snprintf(sub, sizeof(sub), "%.*s", (int)strcspn(scope + 15, "/"), scope + 15);
	char *path = scoped_assignment_path(scope, guid);
	char *role = xasprintf("/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s",
			       sub, role_guid);
	char *what = xasprintf("PUT role assignment %s on %s", guid, scope);
	json_t *body = json_pack("{s:{s:s, s:s, s:s, s:s}}", "properties", "roleDefinitionId", role,
				 "principalId", principal_id, "principalType", "Group", "description",
				 description);
	arm_call(ctx, "PUT", path, body, OUT_CREATE, what, out);
	if (out->cls == OUT_OK && out->already) {
		/* Same role, principal and scope under another name: name that one. */
		char existing[37];
		const char *msg = json_string_value(json_object_get(json_object_get(out->body, "error"), "message"));
		char *id = xasprintf("%s/providers/Microsoft.Authorization/roleAssignments/%s", scope,
				     existing_assignment(msg, existing) ? existing : guid);
		json_decref(out->body);
		out->body = json_pack("{s:s}", "id", id);
		free(id);
	}
	json_decref(body);
	free(what);
	free(role);
	free(path);
}
