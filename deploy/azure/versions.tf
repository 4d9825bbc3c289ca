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

# The workload subscription: where the worker provisions tenants' namespace
# resource groups (ATRIUM_AZURE_SUBSCRIPTION_ID). The worker's custom role,
# its conditioned assignment and the namespace Policy live there, never in
# the platform's subscription. Whoever runs Terraform needs, there, the
# right to define roles, assign them (Owner, or User Access Administrator
# plus Resource Policy Contributor) once.
provider "azurerm" {
  alias           = "workload"
  subscription_id = var.workload_subscription_id

  features {}
}
