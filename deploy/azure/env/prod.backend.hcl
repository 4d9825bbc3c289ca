# terraform init -backend-config=env/prod.backend.hcl
# The state storage account is made once, by hand (deploy/README.md step 1).
resource_group_name  = "rg-atrium-tfstate"
storage_account_name = "UNSET-statriumtfstate"
container_name       = "tfstate"
key                  = "atrium-prod.tfstate"
use_azuread_auth     = true
