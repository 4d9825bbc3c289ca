# Atrium's identity in Azure: one user-assigned managed identity, federated
# with the Kubernetes service account atrium/atrium (Azure Workload
# Identity), used by
#   - the Secrets Store CSI driver, to read Key Vault (Key Vault Secrets User);
#   - Atrium, for tenants' blobs (Storage Blob Data Contributor);
#   - the worker, to provision namespaces through ARM (the custom role below).

resource "azurerm_user_assigned_identity" "atrium" {
  name                = "id-atrium-${var.environment}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  tags                = local.tags
}

resource "azurerm_federated_identity_credential" "atrium" {
  name                = "aks-${var.k8s_namespace}-${var.k8s_service_account}"
  resource_group_name = azurerm_resource_group.main.name
  parent_id           = azurerm_user_assigned_identity.atrium.id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = azurerm_kubernetes_cluster.main.oidc_issuer_url
  subject             = "system:serviceaccount:${var.k8s_namespace}:${var.k8s_service_account}"
}

resource "azurerm_role_assignment" "atrium_kv_secrets_user" {
  scope                = azurerm_key_vault.main.id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.atrium.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "atrium_blob_contributor" {
  scope                = azurerm_storage_account.tenants.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.atrium.principal_id
  principal_type       = "ServicePrincipal"
}

# The worker creates resource group atrium-<tenant>-<namespace>, grants the
# tenant's admin group Contributor on it, and deletes it again. Contributor
# cannot grant roles (no Microsoft.Authorization/roleAssignments/write);
# Owner or User Access Administrator could grant any role, to anyone, on
# the whole subscription. So: a custom role with exactly these actions, and
# an assignment condition (ABAC) that lets it create and delete only
# assignments of the built-in Contributor role. Deleting a namespace's group
# deletes what the tenant put in it, which needs delete rights on those
# resources: hence "*/delete". That is why prod should provision namespaces
# in a subscription of their own (namespaces_subscription_id); when it is the
# platform's subscription, the platform's resource group gets a delete lock
# (below), which this role cannot remove.
locals {
  contributor_role_definition_id = "b24988ac-6180-42a0-ab88-20f7382dd24c"
  namespaces_subscription_scope  = "/subscriptions/${local.namespaces_subscription_id}"
}

resource "azurerm_role_definition" "namespace_provisioner" {
  name        = "Atrium Namespace Provisioner (${var.environment})"
  scope       = local.namespaces_subscription_scope
  description = "Create, tag and delete tenants' namespace resource groups and grant Contributor on them (Atrium worker, ${var.environment})."

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
    not_actions = []
  }

  assignable_scopes = [local.namespaces_subscription_scope]
}

resource "azurerm_role_assignment" "atrium_namespace_provisioner" {
  scope              = local.namespaces_subscription_scope
  role_definition_id = azurerm_role_definition.namespace_provisioner.role_definition_resource_id
  principal_id       = azurerm_user_assigned_identity.atrium.principal_id
  principal_type     = "ServicePrincipal"
  description        = "Atrium worker: namespace provisioning; may assign only Contributor."
  condition_version  = "2.0"
  condition          = <<-EOT
    (
     (
      !(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})
     )
     OR
     (
      @Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${local.contributor_role_definition_id}}
     )
    )
    AND
    (
     (
      !(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})
     )
     OR
     (
      @Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${local.contributor_role_definition_id}}
     )
    )
  EOT
}

# Keeps the worker's "*/delete" (and anyone's mistake) away from the platform
# when namespaces share its subscription. Remove the lock before a deliberate
# terraform destroy.
resource "azurerm_management_lock" "platform" {
  count      = local.namespaces_subscription_id == var.subscription_id ? 1 : 0
  name       = "atrium-platform-no-delete"
  scope      = azurerm_resource_group.main.id
  lock_level = "CanNotDelete"
  notes      = "Atrium platform resources; the worker's namespace role may delete resources in this subscription."
}
