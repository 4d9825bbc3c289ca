# Every value that differs between environments is a variable; env/dev.tfvars
# and env/prod.tfvars set them. Names of globally unique resources (Key
# Vault, Storage, Container Registry, PostgreSQL and Redis host names) are
# variables too: change them there if a name is taken.

variable "subscription_id" {
  description = "Azure subscription that holds the platform (az account show --query id -o tsv)."
  type        = string
  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "subscription_id must be the subscription's GUID (az account show --query id -o tsv)."
  }
}

variable "workload_subscription_id" {
  description = "Subscription where the worker creates tenants' namespace resource groups atrium-<tenant>-<namespace> (ATRIUM_AZURE_SUBSCRIPTION_ID). No default: it must be chosen, and be a subscription of its own (see allow_shared_workload_subscription)."
  type        = string
  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.workload_subscription_id))
    error_message = "workload_subscription_id must be the GUID of the subscription that holds tenants' namespaces (a subscription of their own, not the platform's)."
  }
}

variable "allow_shared_workload_subscription" {
  description = "Allow workload_subscription_id = subscription_id (namespaces in the platform's subscription). The worker's role can then delete any resource group there; the platform's gets a CanNotDelete lock and the namespace Policy is not assigned. Off: plan refuses."
  type        = bool
  default     = false
}

variable "worker_assignable_role_definition_ids" {
  description = "Role definition GUIDs the worker may grant (and remove) on namespace resource groups: the ABAC condition of its role-assignment right and the namespace Policy. Contributor today; add the AKS RBAC roles for namespaces when the worker grants them."
  type        = list(string)
  default     = ["b24988ac-6180-42a0-ab88-20f7382dd24c"] # Contributor
  validation {
    condition     = length(var.worker_assignable_role_definition_ids) > 0 && alltrue([for id in var.worker_assignable_role_definition_ids : can(regex("^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", id))])
    error_message = "worker_assignable_role_definition_ids must be a non-empty list of lowercase role definition GUIDs."
  }
  validation {
    # Owner, User Access Administrator, Role Based Access Control
    # Administrator: roles that can themselves grant roles.
    condition     = length(setintersection(var.worker_assignable_role_definition_ids, ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "f58310d9-a9f6-439a-9e8d-f62e7b41a168"])) == 0
    error_message = "The worker must never be able to grant Owner, User Access Administrator or Role Based Access Control Administrator."
  }
}

variable "namespace_policy_effect" {
  description = "Effect of the workload subscription's Policy (resource groups named atrium-*, the worker's roles granted only inside them): Deny, Audit or Disabled."
  type        = string
  default     = "Deny"
  validation {
    condition     = contains(["Deny", "Audit", "Disabled"], var.namespace_policy_effect)
    error_message = "namespace_policy_effect must be Deny, Audit or Disabled."
  }
}

variable "environment" {
  description = "Environment name: dev or prod (also the Environment tag)."
  type        = string
  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "location" {
  description = "Azure region, e.g. westeurope."
  type        = string
}

variable "owner" {
  description = "Owner tag: the team or person accountable for the environment."
  type        = string
  validation {
    condition     = length(trimspace(var.owner)) > 0 && !startswith(var.owner, "UNSET")
    error_message = "Set owner (the Owner tag) in the environment's tfvars."
  }
}

variable "cost_center" {
  description = "CostCenter tag."
  type        = string
  validation {
    condition     = length(trimspace(var.cost_center)) > 0 && !startswith(var.cost_center, "UNSET")
    error_message = "Set cost_center (the CostCenter tag) in the environment's tfvars."
  }
}

variable "extra_tags" {
  description = "More tags for every resource."
  type        = map(string)
  default     = {}
}

variable "operator_ip_ranges" {
  description = "Public CIDRs (e.g. 203.0.113.0/24 or 198.51.100.7/32) allowed to reach Key Vault and Storage from outside the VNet, for the operators who run deploy/azure/scripts/put-secrets.sh."
  type        = list(string)
  default     = []
}

# ------------------------------------------------------------------ network

variable "vnet_cidr" {
  description = "Address space of the environment's virtual network."
  type        = string
}

variable "aks_subnet_cidr" {
  description = "Subnet of the AKS nodes (pods use the overlay pod_cidr)."
  type        = string
}

variable "private_endpoints_subnet_cidr" {
  description = "Subnet of the private endpoints (Redis, Key Vault, Storage). deploy/k8s NetworkPolicies allow Redis 6380 to it."
  type        = string
}

variable "postgres_subnet_cidr" {
  description = "Subnet delegated to PostgreSQL Flexible Server. deploy/k8s NetworkPolicies allow 5432 to it."
  type        = string
}

variable "aks_pod_cidr" {
  description = "Azure CNI Overlay pod address space (not routed in the VNet)."
  type        = string
  default     = "192.168.0.0/16"
}

variable "aks_service_cidr" {
  description = "Kubernetes service address space (must not overlap the VNet)."
  type        = string
  default     = "172.16.0.0/16"
}

variable "aks_dns_service_ip" {
  description = "Cluster DNS service IP, inside aks_service_cidr."
  type        = string
  default     = "172.16.0.10"
}

# ------------------------------------------------------------------ names

variable "key_vault_name" {
  description = "Key Vault name (3-24 characters, globally unique). deploy/k8s overlays' params.env KEY_VAULT_NAME must match."
  type        = string
}

variable "storage_account_name" {
  description = "Storage account for tenant blobs (3-24 lowercase letters and digits, globally unique). ATRIUM_STORAGE_ACCOUNT."
  type        = string
}

variable "portal_origins" {
  description = "Origins of the portal (https://host) allowed by the storage account's CORS rule, for catalog uploads and images through SAS links. Empty: no rule."
  type        = list(string)
  default     = []
}

variable "acr_name" {
  description = "Container registry name (5-50 letters and digits, globally unique); the image is <acr_name>.azurecr.io/atrium."
  type        = string
}

variable "postgres_server_name" {
  description = "PostgreSQL Flexible Server name (globally unique host name prefix)."
  type        = string
}

variable "redis_name" {
  description = "Azure Cache for Redis name (globally unique host name prefix)."
  type        = string
}

# ------------------------------------------------------------------ AKS

variable "kubernetes_version" {
  description = "AKS Kubernetes version (null: the region's default). 1.29 or newer: the pods' redis-tls sidecar is a native sidecar (an init container with restartPolicy Always, deploy/k8s/base/redis-tls-sidecar.yaml)."
  type        = string
  default     = null

  validation {
    condition     = var.kubernetes_version == null || can(regex("^1\\.(29|[3-9][0-9])(\\.[0-9]+)?$", var.kubernetes_version))
    error_message = "kubernetes_version must be 1.29 or newer (native sidecar containers), or null for the region's default."
  }
}

variable "aks_sku_tier" {
  description = "AKS control plane tier: Free (dev) or Standard (prod, with an uptime SLA)."
  type        = string
  default     = "Free"
}

variable "aks_node_vm_size" {
  description = "VM size of the AKS node pool."
  type        = string
}

variable "aks_node_min_count" {
  description = "Cluster autoscaler minimum node count."
  type        = number
}

variable "aks_node_max_count" {
  description = "Cluster autoscaler maximum node count."
  type        = number
}

variable "aks_zones" {
  description = "Availability zones of the node pool (empty: none)."
  type        = list(string)
  default     = []
}

variable "aks_admin_group_object_ids" {
  description = "Entra ID groups that get cluster-admin through Azure RBAC for Kubernetes."
  type        = list(string)
  default     = []
}

variable "k8s_namespace" {
  description = "Namespace of Atrium in the cluster (deploy/k8s: atrium)."
  type        = string
  default     = "atrium"
}

variable "k8s_serve_service_account" {
  description = "Service account of serve's (and migrate's) pods (deploy/k8s: atrium-serve); federated with id-atrium-serve-<env>."
  type        = string
  default     = "atrium-serve"
}

variable "k8s_worker_service_account" {
  description = "Service account of the worker's pods (deploy/k8s: atrium-worker); federated with id-atrium-worker-<env>."
  type        = string
  default     = "atrium-worker"
}

# ------------------------------------------------------------------ data

variable "postgres_sku" {
  description = "PostgreSQL Flexible Server SKU, e.g. B_Standard_B2s (dev) or GP_Standard_D4ds_v5 (prod)."
  type        = string
}

variable "postgres_storage_mb" {
  description = "PostgreSQL storage in MB (grows automatically)."
  type        = number
  default     = 32768
}

variable "postgres_backup_retention_days" {
  description = "Point-in-time restore window, 7-35 days."
  type        = number
  default     = 7
}

variable "postgres_geo_redundant_backup" {
  description = "Geo-redundant backups (can only be chosen at creation)."
  type        = bool
  default     = false
}

variable "postgres_high_availability" {
  description = "Zone-redundant standby (General Purpose or Memory Optimized SKUs only)."
  type        = bool
  default     = false
}

variable "postgres_admin_login" {
  description = "Administrator login of the PostgreSQL server (not the application's role)."
  type        = string
  default     = "atriumadmin"
}

variable "redis_sku" {
  description = "Azure Cache for Redis SKU: Basic, Standard or Premium."
  type        = string
}

variable "redis_family" {
  description = "C (Basic/Standard) or P (Premium)."
  type        = string
}

variable "redis_capacity" {
  description = "Cache size within the family (C: 0-6, P: 1-5)."
  type        = number
}

variable "storage_replication" {
  description = "Storage replication: LRS, ZRS, GRS, GZRS."
  type        = string
  default     = "LRS"
}

variable "blob_soft_delete_days" {
  description = "Days deleted blobs and containers stay recoverable."
  type        = number
  default     = 7
}

variable "log_retention_days" {
  description = "Log Analytics retention in days."
  type        = number
  default     = 30
}
