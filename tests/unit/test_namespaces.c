/* Unit tests for services/namespaces.c: the Azure names of a namespace. */
#include <criterion/criterion.h>
#include <string.h>

#include "server/outbound/blob.h"
#include "services/namespaces.h"

#define TENANT "8ef90e56-3111-453b-9f71-522579d8ffd2"

static void assert_valid(const struct ns_names *n)
{
	cr_assert(strlen(n->key) <= NS_KEY_MAX, "%s", n->key);
	cr_assert(strlen(n->resource_group) <= 90);
	cr_assert_eq(strncmp(n->resource_group, "atrium-", 7), 0);
	cr_assert_str_eq(n->resource_group + 7, n->key);
	for (int i = 0; i < NS_NCONTAINERS; i++)
		cr_assert(blob_container_name_valid(n->containers[i]), "%s", n->containers[i]);
}

Test(namespaces, plain_names_are_slug_dash_name)
{
	struct ns_names n;
	namespaces_names("contoso", "dev", TENANT, false, &n);
	cr_assert_str_eq(n.key, "contoso-dev");
	cr_assert_str_eq(n.resource_group, "atrium-contoso-dev");
	cr_assert_str_eq(n.containers[0], "contoso-dev-uploads");
	cr_assert_str_eq(n.containers[1], "contoso-dev-logs");
	cr_assert_str_eq(n.containers[2], "contoso-dev-backups");
	assert_valid(&n);
}

Test(namespaces, hashed_names_add_eight_hex_of_tenant_and_name)
{
	struct ns_names n;
	namespaces_names("contoso", "dev1", TENANT, true, &n);
	/* Python: sha256(b"<tenant>/dev1").hexdigest()[:8] */
	cr_assert_str_eq(n.key, "contoso-dev1-2d3b0629");
	assert_valid(&n);
}

Test(namespaces, too_long_names_are_shortened_with_the_hash_and_stay_valid)
{
	char slug[64], name[64];
	memset(slug, 'a', 63);
	slug[63] = '\0';
	memset(name, 'b', 63);
	name[63] = '\0';
	struct ns_names n1, n2;
	namespaces_names(slug, name, TENANT, false, &n1);
	assert_valid(&n1);
	cr_assert_eq(strlen(n1.key), NS_KEY_MAX);
	name[62] = 'c';
	namespaces_names(slug, name, TENANT, false, &n2);
	assert_valid(&n2);
	cr_assert_str_neq(n1.key, n2.key, "names differing past the cut still differ");
}

Test(namespaces, double_hyphens_are_collapsed_because_containers_refuse_them)
{
	struct ns_names n;
	namespaces_names("a--b", "c---d", TENANT, false, &n);
	assert_valid(&n);
	cr_assert_eq(strncmp(n.key, "a-b-c-d-", 8), 0, "%s", n.key);
}

Test(namespaces, slug_and_name_that_join_alike_get_distinct_hashed_names)
{
	struct ns_names a, b;
	namespaces_names("a-b", "c", TENANT, true, &a);
	namespaces_names("a", "b-c", "0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f", true, &b);
	cr_assert_str_neq(a.key, b.key);
}

Test(namespaces, the_size_table_names_three_growing_sizes_with_valid_policies)
{
	const char *names[] = {"small", "medium", "large"};
	int pods = 0;
	for (int i = 0; i < NS_NSIZES; i++) {
		const struct ns_size *z = namespaces_size(names[i]);
		cr_assert_not_null(z, "%s", names[i]);
		cr_assert_eq(z, &namespaces_sizes[i]);
		cr_assert_gt(z->pods, pods, "%s has more pods than the size before", z->name);
		pods = z->pods;
		cr_assert(strcmp(z->egress, "AllowAll") == 0 || strcmp(z->egress, "AllowSameNamespace") == 0 ||
			  strcmp(z->egress, "DenyAll") == 0, "%s egress %s", z->name, z->egress);
	}
	cr_assert_null(namespaces_size("huge"));
	cr_assert_null(namespaces_size(NULL));
	json_t *k = namespaces_kubernetes_json("/subscriptions/x/c", "acme-web", namespaces_size("medium"));
	cr_assert_str_eq(json_string_value(json_object_get(k, "namespace")), "acme-web");
	cr_assert_str_eq(json_string_value(json_object_get(k, "adoption_policy")), "Never");
	json_t *q = json_object_get(k, "quota");
	cr_assert_str_eq(json_string_value(json_object_get(q, "cpu_limit")), "4");
	cr_assert_eq(json_integer_value(json_object_get(q, "pods")), 50);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(k, "network_policy"), "ingress")),
			 "AllowSameNamespace");
	json_decref(k);
}
