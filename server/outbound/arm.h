/*
 * arm.h - Azure Resource Manager client (libcurl through outbound.c):
 * resource groups and role assignments, with ARM's long-running-operation
 * protocol followed to the end.
 *
 * Every call carries the worker's Entra token (azure_token.c; a 401 gets
 * one fresh token and one more try) and x-ms-client-request-id = the
 * job's request id. A 201/202 with Azure-AsyncOperation (preferred) or
 * Location is polled, honouring Retry-After (ATRIUM_ARM_POLL_INTERVAL_MS
 * when absent), until Succeeded / Failed / Canceled or
 * ATRIUM_ARM_LRO_TIMEOUT_SECONDS. Polling URLs must be on the ARM
 * endpoint's own origin: the token never goes anywhere else.
 *
 * Results come back as struct outbound_result (outbound.h), classified in
 * outbound.c.
 */
#ifndef ATRIUM_ARM_H
#define ATRIUM_ARM_H

#include <jansson.h>
#include <stdbool.h>

#include "server/outbound/outbound.h"

/* The built-in Contributor role definition. */
#define ARM_ROLE_CONTRIBUTOR "b24988ac-6180-42a0-ab88-20f7382dd24c"
#define ARM_API_RESOURCE_GROUPS "2021-04-01"
#define ARM_API_ROLE_ASSIGNMENTS "2022-04-01"

/*
 * AKS managed namespaces: Microsoft.ContainerService/managedClusters/
 * {cluster}/managedNamespaces/{name}, GA in api-version 2025-09-01
 * (learn.microsoft.com/azure/templates/microsoft.containerservice/
 * managedclusters/managednamespaces; "Create/Update Managed Namespace").
 * properties: labels, annotations, defaultResourceQuota {cpuRequest,
 * cpuLimit, memoryRequest, memoryLimit} (Kubernetes quantity strings),
 * defaultNetworkPolicy {ingress, egress} each AllowAll |
 * AllowSameNamespace | DenyAll, adoptionPolicy Never | IfIdentical |
 * Always, deletePolicy Keep | Delete. A PUT is a long-running operation.
 */
#define ARM_API_MANAGED_CLUSTERS "2025-09-01"
#define ARM_API_MANAGED_NAMESPACES "2025-09-01"
/*
 * Built-in roles for Azure RBAC on the Kubernetes API, assignable at a
 * managed namespace's scope (learn.microsoft.com/azure/role-based-access-
 * control/built-in-roles/containers): "Azure Kubernetes Service RBAC
 * Admin" (everything in the namespace but its quotas and the namespace
 * itself) and "Azure Kubernetes Service RBAC Writer" (most objects, no
 * roles or role bindings).
 */
#define ARM_ROLE_AKS_RBAC_ADMIN "3498e952-d568-435e-9b2c-8d77e338d7f7"
#define ARM_ROLE_AKS_RBAC_WRITER "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"

/*
 * One ARM call on `path` ("/subscriptions/...?api-version=..."), JSON body
 * (borrowed, may be NULL), followed through its long-running operation.
 * On OK, out->body is the first answer's body (the resource as ARM
 * accepted it), or NULL.
 */
void arm_call(const struct outbound_ctx *ctx, const char *method, const char *path, json_t *body,
	      enum outbound_verb verb, const char *what, struct outbound_result *out);

/* PUT a resource group with `tags` (borrowed) in `location`. */
void arm_resource_group_put(const struct outbound_ctx *ctx, const char *name, const char *location,
			    json_t *tags, struct outbound_result *out);
/* GET a resource group: OK with it in out->body; absent: permanent 404. */
void arm_resource_group_get(const struct outbound_ctx *ctx, const char *name,
			    struct outbound_result *out);
/* DELETE a resource group and wait for the deletion to finish; an absent
 * group is OK (out->already). */
void arm_resource_group_delete(const struct outbound_ctx *ctx, const char *name,
			       struct outbound_result *out);
/* PUT role assignment `guid` of role `role_guid` to a group principal on
 * the resource group. An identical existing assignment is OK. */
void arm_role_assignment_put(const struct outbound_ctx *ctx, const char *resource_group,
			     const char *guid, const char *role_guid, const char *principal_id,
			     struct outbound_result *out);

/* GET role assignment `guid` on the resource group: OK with the
 * assignment in out->body; an absent one is a permanent 404. */
void arm_role_assignment_get(const struct outbound_ctx *ctx, const char *resource_group,
			     const char *guid, struct outbound_result *out);
/* DELETE role assignment `guid` on the resource group; an absent one is OK
 * (out->already). */
void arm_role_assignment_delete(const struct outbound_ctx *ctx, const char *resource_group,
				const char *guid, struct outbound_result *out);

/* What a managed namespace is made of (all borrowed). */
struct arm_managed_namespace {
	const char *name;      /* the Kubernetes namespace: a DNS label */
	const char *location;  /* the cluster's */
	json_t *labels, *annotations;
	const char *cpu_request, *cpu_limit, *memory_request, *memory_limit;
	const char *ingress, *egress;
	const char *adoption_policy, *delete_policy;
};

/* GET the managed cluster `cluster_id` (its ARM id): OK with it in
 * out->body (location); an absent cluster is a permanent 404. */
void arm_managed_cluster_get(const struct outbound_ctx *ctx, const char *cluster_id,
			     struct outbound_result *out);
/* PUT (create or update) a managed namespace and follow the operation. */
void arm_managed_namespace_put(const struct outbound_ctx *ctx, const char *cluster_id,
			       const struct arm_managed_namespace *ns, struct outbound_result *out);
/* GET a managed namespace: OK with it in out->body; absent: permanent 404. */
void arm_managed_namespace_get(const struct outbound_ctx *ctx, const char *cluster_id,
			       const char *name, struct outbound_result *out);
/* DELETE a managed namespace and wait for it; absent is OK (out->already). */
void arm_managed_namespace_delete(const struct outbound_ctx *ctx, const char *cluster_id,
				  const char *name, struct outbound_result *out);
/* "{cluster_id}/managedNamespaces/{name}" (heap). */
char *arm_managed_namespace_id(const char *cluster_id, const char *name);

/* Role assignments on any scope (an ARM id such as a managed namespace's):
 * as the resource-group forms above. The role definition is named in the
 * scope's subscription. */
void arm_scoped_role_assignment_put(const struct outbound_ctx *ctx, const char *scope,
				    const char *guid, const char *role_guid,
				    const char *principal_id, const char *description,
				    struct outbound_result *out);
void arm_scoped_role_assignment_get(const struct outbound_ctx *ctx, const char *scope,
				    const char *guid, struct outbound_result *out);
void arm_scoped_role_assignment_delete(const struct outbound_ctx *ctx, const char *scope,
				       const char *guid, struct outbound_result *out);

/* "/subscriptions/{sub}/resourceGroups/{name}" (heap). */
char *arm_resource_group_id(const char *name);
/* The assignment's full id on the resource group (heap). */
char *arm_role_assignment_id(const char *resource_group, const char *guid);

/*
 * The role assignment's name, derived so a retry can never make a second
 * one: a name-based (version 5, SHA-1) UUID of "tenant/namespace/role" in
 * Atrium's own UUID namespace.
 */
void arm_role_assignment_guid(const char *tenant_id, const char *namespace_name,
			      const char *role_guid, char out[37]);
/* RFC 4122 version 5 UUID of `name` in namespace `ns` (a UUID string).
 * False when ns is not a UUID. */
bool arm_uuid_v5(const char *ns, const char *name, char out[37]);

/* True when `url` has the same scheme, host and port as `base`. */
bool arm_same_origin(const char *base, const char *url);

#endif
