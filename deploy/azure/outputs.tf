# What Atrium needs to be configured (deploy/README.md; scripts/k8s-env.sh
# turns these into deploy/k8s/overlays/<environment>/config.env, and
# scripts/put-secrets.sh into Key Vault secrets).

output "resource_group_name" {
  value = azurerm_resource_group.main.name
}

output "tenant_id" {
  description = "ATRIUM_AZURE_TENANT_ID (and, usually, ATRIUM_HOME_TENANT_ID)."
  value       = data.azurerm_client_config.current.tenant_id
}

output "workload_subscription_id" {
  description = "ATRIUM_AZURE_SUBSCRIPTION_ID: where the worker provisions namespaces."
  value       = var.workload_subscription_id
}

output "postgres_host" {
  description = "Host of the four ATRIUM_DB_*_URL (private, TLS required)."
  value       = azurerm_postgresql_flexible_server.main.fqdn
}

output "postgres_databases" {
  description = "Service -> database name."
  value       = { for k, db in azurerm_postgresql_flexible_server_database.service : k => db.name }
}

output "postgres_admin_login" {
  value = azurerm_postgresql_flexible_server.main.administrator_login
}

output "postgres_admin_password" {
  description = "Used once by scripts/put-secrets.sh to create the application role."
  value       = random_password.postgres_admin.result
  sensitive   = true
}

output "redis_host" {
  description = "Azure Cache for Redis host: REDIS_TLS_HOST in the overlays' config.env, where the pods' redis-tls sidecar connects with TLS (redis_ssl_port, 6380)."
  value       = azurerm_redis_cache.main.hostname
}

output "redis_ssl_port" {
  value = azurerm_redis_cache.main.ssl_port
}

output "redis_name" {
  value = azurerm_redis_cache.main.name
}

output "key_vault_name" {
  description = "deploy/k8s overlays' params.env KEY_VAULT_NAME."
  value       = azurerm_key_vault.main.name
}

output "key_vault_uri" {
  value = azurerm_key_vault.main.vault_uri
}

output "storage_account_name" {
  description = "ATRIUM_STORAGE_ACCOUNT."
  value       = azurerm_storage_account.tenants.name
}

output "storage_blob_url" {
  description = "ATRIUM_STORAGE_BLOB_URL."
  value       = trimsuffix(azurerm_storage_account.tenants.primary_blob_endpoint, "/")
}

output "worker_identity_client_id" {
  description = "ATRIUM_AZURE_CLIENT_ID: the worker's identity; service account atrium-worker's azure.workload.identity/client-id and SecretProviderClass atrium-keyvault-worker's clientID."
  value       = azurerm_user_assigned_identity.worker.client_id
}

output "worker_identity_principal_id" {
  value = azurerm_user_assigned_identity.worker.principal_id
}

output "serve_identity_client_id" {
  description = "params.env SERVE_AZURE_CLIENT_ID: serve's identity (Key Vault secrets only); service account atrium-serve's annotation and SecretProviderClass atrium-keyvault-serve's clientID."
  value       = azurerm_user_assigned_identity.serve.client_id
}

output "serve_identity_principal_id" {
  value = azurerm_user_assigned_identity.serve.principal_id
}

output "acr_login_server" {
  description = "Registry of the image: <login server>/atrium:<version>."
  value       = azurerm_container_registry.main.login_server
}

output "aks_name" {
  value = azurerm_kubernetes_cluster.main.name
}

output "aks_oidc_issuer_url" {
  value = azurerm_kubernetes_cluster.main.oidc_issuer_url
}

output "log_analytics_workspace_id" {
  value = azurerm_log_analytics_workspace.main.id
}
