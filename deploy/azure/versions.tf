terraform {
  required_version = ">= 1.6.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # rbac_authorization_enabled (Key Vault) needs 4.42; checked offline
      # against the 4.55 schema by tests/deploy/terraform-check.mjs.
      version = ">= 4.42.0, < 5.0.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # State lives in an Azure Storage container; each environment has its own
  # key: terraform init -backend-config=env/<environment>.backend.hcl
  backend "azurerm" {}
}

provider "azurerm" {
  subscription_id = var.subscription_id
  # Data-plane calls (none to storage here, but keep keys out of the way).
  storage_use_azuread = true

  features {
    key_vault {
      # A destroyed environment's vault stays recoverable (soft delete).
      purge_soft_delete_on_destroy = false
    }
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
  }
}
