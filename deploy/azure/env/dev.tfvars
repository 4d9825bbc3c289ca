# dev: small and cheap; one zone; burstable PostgreSQL without HA.
# Names of globally unique resources: change them here if taken, and keep
# deploy/k8s/overlays/dev (images newName, params.env KEY_VAULT_NAME,
# config.env ATRIUM_STORAGE_*) in step: tests/deploy/check.mjs compares them.
subscription_id = "UNSET(az account show --query id -o tsv)"
# Tenants' namespaces live in a subscription of their own (deploy/azure/README.md).
workload_subscription_id = "UNSET(the subscription that holds only tenants' namespaces)"
environment              = "dev"
location                 = "westeurope"
owner                    = "UNSET(team or person accountable, e.g. platform-team@example.org)"
cost_center              = "UNSET(your cost center code)"

operator_ip_ranges = []

vnet_cidr                     = "10.40.0.0/16"
aks_subnet_cidr               = "10.40.0.0/20"
private_endpoints_subnet_cidr = "10.40.16.0/24"
postgres_subnet_cidr          = "10.40.17.0/24"

key_vault_name       = "kv-atrium-dev"
storage_account_name = "statriumdev"
acr_name             = "acratriumdev"
postgres_server_name = "psql-atrium-dev"
redis_name           = "redis-atrium-dev"

aks_sku_tier       = "Free"
aks_node_vm_size   = "Standard_D4ds_v5"
aks_node_min_count = 1
aks_node_max_count = 3
aks_zones          = []

postgres_sku                   = "B_Standard_B2s"
postgres_storage_mb            = 32768
postgres_backup_retention_days = 7
postgres_geo_redundant_backup  = false
postgres_high_availability     = false

redis_sku      = "Standard"
redis_family   = "C"
redis_capacity = 1

storage_replication   = "LRS"
blob_soft_delete_days = 7
log_retention_days    = 30
