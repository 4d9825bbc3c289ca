# Azure Cache for Redis: TLS only (port 6380, TLS 1.2+), no public network
# access, reached through a private endpoint. Each serve and worker pod's
# redis-tls sidecar (stunnel, deploy/k8s/base/redis-tls-sidecar.yaml) holds
# the TLS connection to <host>:6380; Atrium's URL (Key Vault secret
# atrium-redis-url) is redis://:<access key>@127.0.0.1:6379/0, the sidecar.

resource "azurerm_redis_cache" "main" {
  name                          = var.redis_name
  location                      = azurerm_resource_group.main.location
  resource_group_name           = azurerm_resource_group.main.name
  sku_name                      = var.redis_sku
  family                        = var.redis_family
  capacity                      = var.redis_capacity
  redis_version                 = "6"
  non_ssl_port_enabled          = false
  minimum_tls_version           = "1.2"
  public_network_access_enabled = false
  tags                          = local.tags

  redis_configuration {
    # Sessions, rate-limit windows and caches all carry TTLs.
    maxmemory_policy = "volatile-lru"
  }
}

resource "azurerm_private_endpoint" "redis" {
  name                = "pe-redis-${var.environment}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  subnet_id           = azurerm_subnet.private_endpoints.id
  tags                = local.tags

  private_service_connection {
    name                           = "psc-redis"
    private_connection_resource_id = azurerm_redis_cache.main.id
    subresource_names              = ["redisCache"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "redis"
    private_dns_zone_ids = [azurerm_private_dns_zone.zones["redis"].id]
  }
}
