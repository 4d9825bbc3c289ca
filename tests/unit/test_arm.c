/* Unit tests for server/outbound/arm.c: the derived role assignment name (a
 * version 5 UUID) and the origin check on operation URLs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "server/common/config.h"
#include "server/outbound/arm.h"
#include "server/outbound/azure_token.h"
#include "server/common/util.h"

Test(arm, uuid_v5_matches_rfc_4122_reference_values)
{
	char out[37];
	/* Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") */
	cr_assert(arm_uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org", out));
	cr_assert_str_eq(out, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	cr_assert_not(arm_uuid_v5("not-a-uuid", "x", out));
}

Test(arm, role_assignment_name_is_deterministic_per_tenant_namespace_and_role)
{
	char a[37], b[37], c[37], d[37];
	arm_role_assignment_guid("8ef90e56-3111-453b-9f71-522579d8ffd2", "dev1", ARM_ROLE_CONTRIBUTOR, a);
	arm_role_assignment_guid("8ef90e56-3111-453b-9f71-522579d8ffd2", "dev1", ARM_ROLE_CONTRIBUTOR, b);
	/* Python: uuid5(UUID("66f8c88a-b976-4cca-ae8d-e95fb76ddf36"), "<tenant>/dev1/<role>") */
	cr_assert_str_eq(a, "8e925a49-08d4-5a9a-904a-ce7c41ff4918");
	cr_assert_str_eq(a, b, "a retry derives the same name");
	cr_assert(util_is_uuid(a));
	cr_assert_eq(a[14], '5', "version 5");
	arm_role_assignment_guid("8ef90e56-3111-453b-9f71-522579d8ffd2", "dev2", ARM_ROLE_CONTRIBUTOR, c);
	arm_role_assignment_guid("8EF90E56-3111-453B-9F71-522579D8FFD2", "dev1", ARM_ROLE_CONTRIBUTOR, d);
	cr_assert_str_neq(a, c, "another namespace, another assignment");
	cr_assert_str_eq(a, d, "the tenant id's case does not matter");
}

Test(arm, operation_urls_must_share_the_arm_origin)
{
	cr_assert(arm_same_origin("https://management.azure.com",
				  "https://management.azure.com/subscriptions/x/operationresults/y?api-version=1"));
	cr_assert(arm_same_origin("https://management.azure.com/", "https://MANAGEMENT.azure.com:443/x"));
	cr_assert(arm_same_origin("http://127.0.0.1:28090", "http://127.0.0.1:28090/x"));
	cr_assert_not(arm_same_origin("https://management.azure.com", "https://evil.example/x"));
	cr_assert_not(arm_same_origin("https://management.azure.com", "http://management.azure.com/x"));
	cr_assert_not(arm_same_origin("http://127.0.0.1:28090", "http://127.0.0.1:28091/x"));
	cr_assert_not(arm_same_origin("https://management.azure.com", "not a url"));
}

Test(arm, token_refresh_margin_is_five_minutes_or_a_quarter_of_short_lifetimes)
{
	cr_assert_eq(azure_token_refresh_margin(3599), 300);
	cr_assert_eq(azure_token_refresh_margin(86399), 300);
	cr_assert_eq(azure_token_refresh_margin(600), 150);
	cr_assert_eq(azure_token_refresh_margin(4), 1);
	cr_assert_eq(azure_token_refresh_margin(0), 0);
}

Test(arm, aks_cluster_ids_are_checked_segment_by_segment)
{
	const char *good[] = {
		"/subscriptions/00000000-0000-4000-8000-0000000000a2/resourceGroups/atrium-platform/"
		"providers/Microsoft.ContainerService/managedClusters/atrium-aks",
		"/subscriptions/00000000-0000-4000-8000-0000000000a2/resourcegroups/rg.(x)_1/"
		"providers/microsoft.containerservice/managedclusters/A_b-1",
	};
	const char *bad[] = {
		"",
		"subscriptions/00000000-0000-4000-8000-0000000000a2/resourceGroups/rg/providers/"
		"Microsoft.ContainerService/managedClusters/aks",
		"/subscriptions/not-a-uuid/resourceGroups/rg/providers/Microsoft.ContainerService/"
		"managedClusters/aks",
		"/subscriptions/00000000-0000-4000-8000-0000000000a2/resourceGroups/rg/providers/"
		"Microsoft.Compute/virtualMachines/aks",
		"/subscriptions/00000000-0000-4000-8000-0000000000a2/resourceGroups/rg/providers/"
		"Microsoft.ContainerService/managedClusters/aks/",
		"/subscriptions/00000000-0000-4000-8000-0000000000a2/resourceGroups/rg/providers/"
		"Microsoft.ContainerService/managedClusters/aks/managedNamespaces/x",
		"/subscriptions/00000000-0000-4000-8000-0000000000a2/resourceGroups/rg./providers/"
		"Microsoft.ContainerService/managedClusters/aks",
		"/subscriptions/00000000-0000-4000-8000-0000000000a2/resourceGroups/rg/providers/"
		"Microsoft.ContainerService/managedClusters/a?b",
		"/subscriptions/00000000-0000-4000-8000-0000000000a2/resourceGroups//providers/"
		"Microsoft.ContainerService/managedClusters/aks",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(config_is_aks_cluster_id(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(config_is_aks_cluster_id(bad[i]), "%s", bad[i]);
	cr_assert_not(config_is_aks_cluster_id(NULL));
}

Test(arm, a_bad_aks_cluster_id_stops_config_load)
{
	unsetenv("ATRIUM_AKS_CLUSTER_ID");
	cr_assert(config_load(), "the rest of the configuration loads");
	config_free();
	setenv("ATRIUM_AKS_CLUSTER_ID", "/subscriptions/x/resourceGroups/rg", 1);
	cr_assert_not(config_load());
	config_free();
	setenv("ATRIUM_AKS_CLUSTER_ID", "", 1);
	cr_assert(config_load());
	cr_assert_null(cfg.aks_cluster_id, "empty means unset");
	config_free();
	unsetenv("ATRIUM_AKS_CLUSTER_ID");
}
