data "azurerm_client_config" "current" {}

locals {
  tags = merge(var.extra_tags, {
    Project     = "Atrium"
    Environment = var.environment
    Owner       = var.owner
    CostCenter  = var.cost_center
  })

  # service -> database (SPEC section 1); ATRIUM_DB_<SERVICE>_URL names them.
  databases = {
    auth    = "auth_db"
    portal  = "portal_db"
    betting = "betting_db"
    billing = "billing_db"
    catalog = "catalog_db"
  }

  # Storage network rules take bare addresses for single IPs, not /32.
  operator_ips_for_storage = [for r in var.operator_ip_ranges : trimsuffix(r, "/32")]
}

# One resource group per environment.
resource "azurerm_resource_group" "main" {
  name     = "rg-atrium-${var.environment}"
  location = var.location
  tags     = local.tags
}

resource "azurerm_log_analytics_workspace" "main" {
  name                = "log-atrium-${var.environment}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = local.tags
}
