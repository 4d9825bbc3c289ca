# Two identities, one per workload, each federated with its own Kubernetes
# service account (Azure Workload Identity), so a compromised serve pod
# cannot act as the worker:
#
#   id-atrium-serve-<env>   <- system:serviceaccount:atrium:atrium-serve
#     No ARM role at all: no role on any subscription, resource group or
#     management resource. Its only role is a data-plane one, Key Vault
#     Secrets User on this environment's vault (and nothing wider), because
#     the Secrets Store CSI driver reads serve's (and migrate's) secrets as
#     the identity of the pod's service account. serve's own containers get
#     no Azure token: its pods do not carry azure.workload.identity/use, so
#     only the CSI driver (through the kubelet's service-account token
#     request) can exchange a token for this identity.
#   id-atrium-worker-<env>  <- system:serviceaccount:atrium:atrium-worker
#     Key Vault Secrets User on the vault (its secrets, through the CSI
#     driver), Storage Blob Data Contributor on the tenants' account, and the
#     namespace provisioning role in the WORKLOAD subscription (below).

resource "azurerm_user_assigned_identity" "serve" {
  name                = "id-atrium-serve-${var.environment}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = local.tags
}

resource "azurerm_user_assigned_identity" "worker" {
  name                = "id-atrium-worker-${var.environment}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = local.tags
}

resource "azurerm_federated_identity_credential" "serve" {
  name                = "aks-${var.k8s_namespace}-${var.k8s_serve_service_account}"
  resource_group_name = azurerm_resource_group.main.name
  parent_id           = azurerm_user_assigned_identity.serve.id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = azurerm_kubernetes_cluster.main.oidc_issuer_url
  subject             = "system:serviceaccount:${var.k8s_namespace}:${var.k8s_serve_service_account}"
}

resource "azurerm_federated_identity_credential" "worker" {
  name                = "aks-${var.k8s_namespace}-${var.k8s_worker_service_account}"
  resource_group_name = azurerm_resource_group.main.name
  parent_id           = azurerm_user_assigned_identity.worker.id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = azurerm_kubernetes_cluster.main.oidc_issuer_url
  subject             = "system:serviceaccount:${var.k8s_namespace}:${var.k8s_worker_service_account}"
}

# serve: Key Vault data plane only, on this one vault. "serve holds no Azure
# role" means no ARM/management right anywhere; this assignment lets the CSI
# driver read secrets (Microsoft.KeyVault/vaults/secrets/getSecret/action,
# .../readMetadata/action) and nothing else. It is on the vault, not on
# single secrets, because put-secrets.sh writes the secrets after apply and
# a role assignment cannot be made on a secret that does not exist yet.
resource "azurerm_role_assignment" "serve_kv_secrets_user" {
  scope                = azurerm_key_vault.main.id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.serve.principal_id
  principal_type       = "ServicePrincipal"
  description          = "Atrium serve: read Key Vault secrets through the Secrets Store CSI driver (data plane only)."
}

resource "azurerm_role_assignment" "worker_kv_secrets_user" {
  scope                = azurerm_key_vault.main.id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.worker.principal_id
  principal_type       = "ServicePrincipal"
  description          = "Atrium worker: read Key Vault secrets through the Secrets Store CSI driver (data plane only)."
}

# The worker creates each namespace's blob containers. Today it signs with
# SharedKey (ATRIUM_STORAGE_KEY, from Key Vault); this role is for when it
# authenticates with its identity instead (storage.tf). Scoped to the one
# account.
resource "azurerm_role_assignment" "worker_blob_contributor" {
  scope                = azurerm_storage_account.tenants.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.worker.principal_id
  principal_type       = "ServicePrincipal"
  description          = "Atrium worker: tenants' blob containers."
}

# ------------------------------------------------- namespace provisioning
#
# The worker creates resource group atrium-<tenant-slug>-<namespace> (with
# tags) in the workload subscription, follows ARM's long-running operations,
# grants the tenant's Entra admin group Contributor on it (deterministic
# role assignment GUIDs), and deletes the group again. Built-in roles fit
# badly: Contributor has no Microsoft.Authorization/roleAssignments/write;
# Owner and User Access Administrator could grant any role to anyone,
# themselves included; Role Based Access Control Administrator (which is
# meant for conditioned delegation) adds */read and Microsoft.Support/* on
# the whole subscription and still cannot create resource groups. So: one
# custom role with exactly these actions, defined and assignable only in the
# workload subscription (provider azurerm.workload), assigned there once,
# with an ABAC condition on its role-assignment actions.
#
# What the condition (version 2.0) restricts, per Azure's "Authorization
# actions and attributes" for conditions:
#   - roleAssignments/write: @Request RoleDefinitionId must be one of
#     var.worker_assignable_role_definition_ids (Contributor by default) AND
#     @Request PrincipalType must be Group (the tenant's admin group): the
#     worker cannot grant anything to itself, another service principal or
#     a user, and cannot grant Owner / User Access Administrator / RBAC
#     Administrator (the variable refuses those ids).
#   - roleAssignments/delete: @Resource RoleDefinitionId must be one of the
#     same ids: it cannot remove other assignments (e.g. the operators').
# What it CANNOT restrict: the SCOPE of the assignment. The only attributes
# Azure offers for these two actions are the role definition id, the
# principal id and the principal type; there is no attribute for the scope
# or the resource group's name. Within the workload subscription the worker
# could therefore grant Contributor to a group at the subscription scope or
# on any resource group. The scope limits come from elsewhere:
#   - the assignment (and the role's assignable_scopes) is the workload
#     subscription only: nothing in the platform subscription is reachable;
#   - the Azure Policy below (deny) refuses, in the workload subscription,
#     resource groups not named atrium-*, and assignments of the assignable
#     roles at any scope outside an atrium-* resource group.
# "*/delete" is needed because deleting a resource group deletes what the
# tenant put in it, and ARM checks delete rights on each resource. Policy
# cannot stop a delete by name (denyAction does not cover resource group
# deletion), which is why the workload subscription must hold nothing but
# namespaces.
locals {
  workload_subscription_scope = "/subscriptions/${var.workload_subscription_id}"
  worker_assignable_role_ids  = join(", ", var.worker_assignable_role_definition_ids)
}

resource "azurerm_role_definition" "namespace_provisioner" {
  provider    = azurerm.workload
  name        = "Atrium Namespace Provisioner (${var.environment})"
  scope       = local.workload_subscription_scope
  description = "Create, tag and delete tenants' namespace resource groups atrium-<tenant>-<namespace> and grant the allowed roles on them (Atrium worker, ${var.environment})."

  permissions {
    actions = [
      "Microsoft.Resources/subscriptions/resourceGroups/read",
      "Microsoft.Resources/subscriptions/resourceGroups/write",
      "Microsoft.Resources/subscriptions/resourceGroups/delete",
      "Microsoft.Resources/subscriptions/operationresults/read",
      "Microsoft.Resources/subscriptions/resourcegroups/resources/read",
      "Microsoft.Authorization/roleAssignments/read",
      "Microsoft.Authorization/roleAssignments/write",
      "Microsoft.Authorization/roleAssignments/delete",
      "*/delete",
    ]
    # Never: locks, policy, role definitions, or deny the worker's own
    # guard rails. "*/delete" would otherwise include these.
    not_actions = [
      "Microsoft.Authorization/locks/delete",
      "Microsoft.Authorization/policyAssignments/delete",
      "Microsoft.Authorization/policyDefinitions/delete",
      "Microsoft.Authorization/policyExemptions/delete",
      "Microsoft.Authorization/roleDefinitions/delete",
    ]
  }

  assignable_scopes = [local.workload_subscription_scope]

  lifecycle {
    precondition {
      condition     = var.workload_subscription_id != var.subscription_id || var.allow_shared_workload_subscription
      error_message = "workload_subscription_id is the platform's subscription: give namespaces a subscription of their own, or set allow_shared_workload_subscription = true knowingly (the worker can then delete any resource group in it; the platform's gets a CanNotDelete lock)."
    }
  }
}

resource "azurerm_role_assignment" "worker_namespace_provisioner" {
  provider           = azurerm.workload
  scope              = local.workload_subscription_scope
  role_definition_id = azurerm_role_definition.namespace_provisioner.role_definition_resource_id
  principal_id       = azurerm_user_assigned_identity.worker.principal_id
  principal_type     = "ServicePrincipal"
  description        = "Atrium worker: namespace provisioning; may grant only the allowed roles, only to groups."
  condition_version  = "2.0"
  condition          = <<-EOT
    (
     (
      !(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})
     )
     OR
     (
      @Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${local.worker_assignable_role_ids}}
      AND
      @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'Group'}
     )
    )
    AND
    (
     (
      !(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})
     )
     OR
     (
      @Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${local.worker_assignable_role_ids}}
     )
    )
  EOT
}

# The per-resource-group constraint the condition cannot express: an Azure
# Policy in the workload subscription (it applies to everyone there, which
# is the point of a subscription that holds only namespaces).
#   1. a resource group must be named atrium-*;
#   2. an assignment of one of the worker's assignable roles must be made
#      inside an atrium-* resource group (its id starts with
#      /subscriptions/<workload>/resourceGroups/atrium-), never at the
#      subscription.
# Deny covers create/update only; it cannot stop deletes (see above). It is
# assigned only when the workload subscription is not the platform's.
# namespace_policy_effect = "Audit" reports instead of refusing.
resource "azurerm_policy_definition" "namespaces_only" {
  provider     = azurerm.workload
  name         = "atrium-namespaces-only-${var.environment}"
  policy_type  = "Custom"
  mode         = "All"
  display_name = "Atrium (${var.environment}): only atrium-* namespace resource groups, worker roles only inside them"
  description  = "Workload subscription guard rail for the Atrium worker's namespace provisioning role."
  metadata     = jsonencode({ category = "Atrium" })

  parameters = jsonencode({
    effect = {
      type          = "String"
      allowedValues = ["Deny", "Audit", "Disabled"]
      defaultValue  = "Deny"
    }
    assignableRoleDefinitionIds = {
      type = "Array"
    }
  })

  policy_rule = jsonencode({
    if = {
      anyOf = [
        {
          allOf = [
            { field = "type", equals = "Microsoft.Resources/subscriptions/resourceGroups" },
            { field = "name", notLike = "atrium-*" },
          ]
        },
        {
          allOf = [
            { field = "type", equals = "Microsoft.Authorization/roleAssignments" },
            {
              count = {
                value = "[parameters('assignableRoleDefinitionIds')]"
                name  = "roleId"
                where = {
                  value    = "[field('Microsoft.Authorization/roleAssignments/roleDefinitionId')]"
                  contains = "[current('roleId')]"
                }
              }
              greater = 0
            },
            { field = "id", notLike = "${local.workload_subscription_scope}/resourceGroups/atrium-*" },
          ]
        },
      ]
    }
    then = {
      effect = "[parameters('effect')]"
    }
  })
}

resource "azurerm_subscription_policy_assignment" "namespaces_only" {
  count                = var.workload_subscription_id == var.subscription_id ? 0 : 1
  provider             = azurerm.workload
  name                 = "atrium-namespaces-only-${var.environment}"
  subscription_id      = local.workload_subscription_scope
  policy_definition_id = azurerm_policy_definition.namespaces_only.id
  display_name         = "Atrium (${var.environment}): namespaces only"
  description          = "Resource groups in this subscription are Atrium namespaces (atrium-<tenant>-<namespace>); the worker's roles are granted only inside them."

  parameters = jsonencode({
    effect                      = { value = var.namespace_policy_effect }
    assignableRoleDefinitionIds = { value = var.worker_assignable_role_definition_ids }
  })

  non_compliance_message {
    content = "Atrium's workload subscription holds only namespace resource groups named atrium-<tenant>-<namespace>, and the worker's roles are granted only inside them."
  }
}

# When namespaces share the platform's subscription anyway
# (allow_shared_workload_subscription), keep the worker's "*/delete" away
# from the platform: a delete lock, which the role cannot remove (its
# not_actions exclude locks/delete). Remove it before a deliberate
# terraform destroy. The Policy above is not assigned in that case (it
# would refuse the platform's own resource groups): a shared subscription
# has only the condition and the lock.
resource "azurerm_management_lock" "platform" {
  count      = var.workload_subscription_id == var.subscription_id ? 1 : 0
  name       = "atrium-platform-no-delete"
  scope      = azurerm_resource_group.main.id
  lock_level = "CanNotDelete"
  notes      = "Atrium platform resources; the worker's namespace role may delete resources in this subscription."
}
