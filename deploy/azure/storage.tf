# Storage account for tenants' blobs: the worker creates each namespace's
# containers (uploads, logs, backups). No public blob access, HTTPS with TLS
# 1.2+ only, reached from AKS through a private endpoint.

resource "azurerm_storage_account" "tenants" {
  name                              = var.storage_account_name
  resource_group_name               = azurerm_resource_group.main.name
  location                          = azurerm_resource_group.main.location
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = var.storage_replication
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  cross_tenant_replication_enabled  = false
  infrastructure_encryption_enabled = true
  # Atrium signs Blob requests with SharedKey (ATRIUM_STORAGE_KEY) today;
  # switch this off once it authenticates with its workload identity
  # (Storage Blob Data Contributor is already granted in identity.tf).
  shared_access_key_enabled     = true
  public_network_access_enabled = true
  tags                          = local.tags

  network_rules {
    default_action = "Deny"
    bypass         = ["AzureServices"]
    ip_rules       = local.operator_ips_for_storage
  }

  blob_properties {
    versioning_enabled = true

    delete_retention_policy {
      days = var.blob_soft_delete_days
    }

    container_delete_retention_policy {
      days = var.blob_soft_delete_days
    }

    # The portal uploads catalog media straight to Blob Storage through a
    # SAS the API signs (and shows images from read SAS links): its origin
    # needs a CORS rule. The browsers must also reach the account, which
    # network_rules above deny to all but the operators today.
    dynamic "cors_rule" {
      for_each = length(var.portal_origins) > 0 ? [1] : []
      content {
        allowed_origins    = var.portal_origins
        allowed_methods    = ["PUT", "GET", "HEAD"]
        allowed_headers    = ["*"]
        exposed_headers    = ["*"]
        max_age_in_seconds = 600
      }
    }
  }
}

resource "azurerm_private_endpoint" "blob" {
  name                = "pe-blob-${var.environment}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  subnet_id           = azurerm_subnet.private_endpoints.id
  tags                = local.tags

  private_service_connection {
    name                           = "psc-blob"
    private_connection_resource_id = azurerm_storage_account.tenants.id
    subresource_names              = ["blob"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "blob"
    private_dns_zone_ids = [azurerm_private_dns_zone.zones["blob"].id]
  }
}
