# prod: zone-redundant where Azure offers it; General Purpose PostgreSQL with
# a zone-redundant standby and geo-redundant backups (35-day PITR window);
# Premium Redis; ZRS storage; AKS Standard tier (uptime SLA).
# Names of globally unique resources: change them here if taken, and keep
# deploy/k8s/overlays/prod in step (tests/deploy/check.mjs compares them).
subscription_id = "UNSET(az account show --query id -o tsv)"
# Tenants' namespaces live in a subscription of their own (deploy/azure/README.md).
workload_subscription_id = "UNSET(the subscription that holds only tenants' namespaces)"
environment              = "prod"
location                 = "westeurope"
owner                    = "UNSET(team or person accountable, e.g. platform-team@example.org)"
cost_center              = "UNSET(your cost center code)"

operator_ip_ranges = []

vnet_cidr                     = "10.40.0.0/16"
aks_subnet_cidr               = "10.40.0.0/20"
private_endpoints_subnet_cidr = "10.40.16.0/24"
postgres_subnet_cidr          = "10.40.17.0/24"

key_vault_name       = "kv-atrium-prod"
storage_account_name = "statriumprod"
acr_name             = "acratriumprod"
postgres_server_name = "psql-atrium-prod"
redis_name           = "redis-atrium-prod"

aks_sku_tier       = "Standard"
aks_node_vm_size   = "Standard_D4ds_v5"
aks_node_min_count = 3
aks_node_max_count = 10
aks_zones          = ["1", "2", "3"]

postgres_sku                   = "GP_Standard_D4ds_v5"
postgres_storage_mb            = 131072
postgres_backup_retention_days = 35
postgres_geo_redundant_backup  = true
postgres_high_availability     = true

redis_sku      = "Premium"
redis_family   = "P"
redis_capacity = 1

storage_replication   = "ZRS"
blob_soft_delete_days = 30
log_retention_days    = 90
