/*
 * test_cable_plan.c - services/cable_plan.c on worked examples whose
 * numbers are computed by hand in the comments.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "services/cable_plan.h"

#define SW "11111111-1111-4111-8111-111111111111"
#define AP "22222222-2222-4222-8222-222222222222"
#define FW "33333333-3333-4333-8333-333333333333"

static struct cp_request *rq;
static struct cp_result *res;
static char field[128];

static void setup(void)
{
	rq = calloc(1, sizeof(*rq));
	res = calloc(1, sizeof(*res));
	field[0] = '\0';
}

static void teardown(void)
{
	free(rq);
	free(res);
}

TestSuite(cable_plan, .init = setup, .fini = teardown);

static void attrs(const char *text, struct cp_attrs *out)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	cr_assert_not_null(j, "%s", e.text);
	const char *msg = cp_attrs_parse(j, out, field, sizeof(field));
	cr_assert_null(msg, "%s: %s", field, msg);
	json_decref(j);
}

static const char *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	cr_assert_not_null(j, "%s", e.text);
	const char *msg = cp_request_parse(j, rq, field, sizeof(field));
	json_decref(j);
	return msg;
}

static const struct cp_problem *find_problem(const char *code)
{
	for (int i = 0; i < res->n_problems; i++)
		if (strcmp(res->problems[i].code, code) == 0)
			return &res->problems[i];
	return NULL;
}

/*
 * A 24-port PoE switch (370 W budget), four access points (15.4 W each) at
 * 12, 23.5, 40 and 95 m, slack 10 %, default lengths (... 10, 15, 20, 30,
 * 50 m):
 *   12 m   -> 13.20 m -> 15 m
 *   23.5 m -> 25.85 m -> 30 m
 *   40 m   -> 44.00 m -> 50 m
 *   95 m   -> 104.50 m -> beyond 50 m: custom 105 m, and over copper's
 *             100 m: too_long
 * Ports: switch 4 of 24 RJ45; each AP 1 of 1. PoE: 4 x 15.4 = 61.6 W.
 */
Test(cable_plan, access_points_on_a_poe_switch_round_up_to_standard_lengths)
{
	cr_assert_null(parse("{\"bom\": [{\"ref\": \"sw\", \"product_id\": \"" SW "\"},"
			     "  {\"ref\": \"ap\", \"product_id\": \"" AP "\", \"quantity\": 4}],"
			     " \"links\": [{\"from\": \"sw\", \"to\": \"ap#1\", \"distance_m\": 12},"
			     "  {\"from\": \"sw\", \"to\": \"ap#2\", \"distance_m\": 23.5},"
			     "  {\"from\": \"sw\", \"to\": \"ap#3\", \"distance_m\": 40},"
			     "  {\"from\": \"ap#4\", \"to\": \"sw\", \"distance_m\": 95}]}"),
		       "%s", field);
	struct cp_attrs a[2];
	attrs("{\"ports\": [{\"count\": 24, \"type\": \"rj45\", \"speed_mbps\": 1000},"
	      " {\"count\": 4, \"type\": \"sfp_plus\", \"speed_mbps\": 10000}], \"poe_budget_w\": 370}",
	      &a[0]);
	attrs("{\"ports\": [{\"count\": 1, \"type\": \"rj45\", \"speed_mbps\": 2500}], \"poe_draw_w\": 15.4}",
	      &a[1]);
	cp_plan(rq, a, res);

	cr_assert_eq(rq->n_devices, 5);
	cr_assert_eq(res->n_cables, 4);
	long want[] = {1500, 3000, 5000, 10500};
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(res->cables[i].medium, CP_COPPER);
		cr_assert_eq(res->cables[i].length_cm, want[i], "cable %d: %ld", i, res->cables[i].length_cm);
		cr_assert_eq(res->cables[i].count, 1);
		cr_assert_eq(res->cables[i].custom, i == 3);
	}
	cr_assert_eq(res->ports_used[0][CP_RJ45], 4);
	cr_assert_eq(res->ports_used[1][CP_RJ45], 1);
	cr_assert_eq(res->poe_drawn_dw[0], 616);
	cr_assert_eq(res->n_problems, 1);
	const struct cp_problem *p = find_problem("too_long");
	cr_assert_not_null(p);
	cr_assert_eq(p->link, 3);
	cr_assert_str_eq(p->message, "ap#4 to sw needs 104.50 m of cable; copper allows at most 100 m");
}

/*
 * An 8-port switch with a 60 W budget and ten cameras (7.5 W each) at 5 m,
 * slack 0: 10 links on 8 RJ45 ports -> ports_exhausted (10 of 8); PoE
 * 10 x 7.5 = 75 W over 60 W -> poe_over_budget. Cables: 10 x 5 m (5 m is
 * a standard length: no rounding).
 */
Test(cable_plan, too_many_cameras_exhaust_ports_and_the_poe_budget)
{
	char body[4096];
	int n = snprintf(body, sizeof(body),
			 "{\"slack_percent\": 0, \"bom\": [{\"ref\": \"sw\", \"product_id\": \"" SW "\"},"
			 " {\"ref\": \"cam\", \"product_id\": \"" AP "\", \"quantity\": 10}], \"links\": [");
	for (int i = 1; i <= 10; i++)
		n += snprintf(body + n, sizeof(body) - (size_t)n,
			      "%s{\"from\": \"sw\", \"to\": \"cam#%d\", \"distance_m\": 5}", i > 1 ? "," : "", i);
	snprintf(body + n, sizeof(body) - (size_t)n, "]}");
	cr_assert_null(parse(body), "%s", field);
	struct cp_attrs a[2];
	attrs("{\"ports\": [{\"count\": 8, \"type\": \"rj45\", \"speed_mbps\": 1000}], \"poe_budget_w\": 60}", &a[0]);
	attrs("{\"ports\": [{\"count\": 1, \"type\": \"rj45\", \"speed_mbps\": 100}], \"poe_draw_w\": 7.5}", &a[1]);
	cp_plan(rq, a, res);

	cr_assert_eq(res->n_cables, 1);
	cr_assert_eq(res->cables[0].length_cm, 500);
	cr_assert_eq(res->cables[0].count, 10);
	cr_assert_eq(res->poe_drawn_dw[0], 750);
	const struct cp_problem *p = find_problem("ports_exhausted");
	cr_assert_not_null(p);
	cr_assert_str_eq(p->message, "sw needs 10 rj45 ports and has 8");
	p = find_problem("poe_over_budget");
	cr_assert_not_null(p);
	cr_assert_str_eq(p->message, "sw powers 75.0 W of PoE devices; its budget is 60.0 W");
	cr_assert_eq(res->n_problems, 2);
}

/*
 * Uplinks: a firewall with 2 SFP+ and no RJ45 to a switch 150 m away
 * (fibre chosen since the firewall has no RJ45): 150 x 1.10 = 165 m, over
 * 50 m: custom 165 m of OM4, within 400 m. A second, 3 m DAC named by the
 * request: 3.30 m -> 5 m. Both take SFP+ ports: the firewall 2 of 2, the
 * switch 2 of 4.
 */
Test(cable_plan, fibre_uplinks_take_sfp_ports_and_custom_lengths_beyond_the_longest)
{
	cr_assert_null(parse("{\"bom\": [{\"ref\": \"fw\", \"product_id\": \"" FW "\"},"
			     " {\"ref\": \"sw\", \"product_id\": \"" SW "\"}],"
			     " \"links\": [{\"from\": \"fw\", \"to\": \"sw\", \"distance_m\": 150},"
			     " {\"from\": \"fw\", \"to\": \"sw\", \"distance_m\": 3, \"medium\": \"dac\"}]}"),
		       "%s", field);
	struct cp_attrs a[2];
	attrs("{\"ports\": [{\"count\": 2, \"type\": \"sfp_plus\", \"speed_mbps\": 10000}], \"power_w\": 80, \"rack_units\": 1}", &a[0]);
	attrs("{\"ports\": [{\"count\": 24, \"type\": \"rj45\", \"speed_mbps\": 1000},"
	      " {\"count\": 4, \"type\": \"sfp_plus\", \"speed_mbps\": 10000}]}", &a[1]);
	cp_plan(rq, a, res);

	cr_assert_eq(res->n_problems, 0, "%s", res->n_problems ? res->problems[0].message : "");
	cr_assert_eq(res->n_cables, 2);
	cr_assert_eq(res->cables[0].medium, CP_DAC);
	cr_assert_eq(res->cables[0].length_cm, 500);
	cr_assert_eq(res->cables[1].medium, CP_FIBER_MM);
	cr_assert_eq(res->cables[1].length_cm, 16500);
	cr_assert(res->cables[1].custom);
	cr_assert_eq(res->ports_used[0][CP_SFP_PLUS], 2);
	cr_assert_eq(res->ports_used[1][CP_SFP_PLUS], 2);
	cr_assert_eq(res->ports_used[1][CP_RJ45], 0);

	json_t *j = cp_result_json(rq, a, res);
	cr_assert_eq(json_array_size(json_object_get(j, "cables")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(j, "cables"), 1), "type")), "om4_lc_lc");
	json_decref(j);
}

/* Same length, same medium: one line with the count summed; custom
 * standard lengths are honoured (slack 20 %: 4 m -> 4.80 m -> 6 m). */
Test(cable_plan, equal_cables_are_counted_together_with_the_requests_lengths)
{
	cr_assert_null(parse("{\"slack_percent\": 20, \"standard_lengths_m\": [2, 6, 12],"
			     " \"bom\": [{\"ref\": \"a\", \"product_id\": \"" SW "\"},"
			     " {\"ref\": \"b\", \"product_id\": \"" SW "\"}],"
			     " \"links\": [{\"from\": \"a\", \"to\": \"b\", \"distance_m\": 4, \"count\": 2},"
			     " {\"from\": \"b\", \"to\": \"a\", \"distance_m\": 3.5}]}"),
		       "%s", field);
	struct cp_attrs a[2];
	attrs("{\"ports\": [{\"count\": 24, \"type\": \"rj45\", \"speed_mbps\": 1000}]}", &a[0]);
	attrs("{\"ports\": [{\"count\": 24, \"type\": \"rj45\", \"speed_mbps\": 1000}]}", &a[1]);
	cp_plan(rq, a, res);
	cr_assert_eq(res->n_cables, 1);
	cr_assert_eq(res->cables[0].length_cm, 600);
	cr_assert_eq(res->cables[0].count, 3);
	cr_assert_eq(res->ports_used[0][CP_RJ45], 3);
}

Test(cable_plan, bad_requests_name_the_field)
{
	struct {
		const char *body, *field;
	} cases[] = {
		{"{}", "bom"},
		{"{\"bom\": [{\"ref\": \"a\", \"product_id\": \"nope\"}]}", "bom[0].product_id"},
		{"{\"bom\": [{\"ref\": \"a b\", \"product_id\": \"" SW "\"}]}", "bom[0].ref"},
		{"{\"bom\": [{\"ref\": \"a\", \"product_id\": \"" SW "\"}, {\"ref\": \"a\", \"product_id\": \"" SW "\"}]}", "bom[1].ref"},
		{"{\"bom\": [{\"ref\": \"a\", \"product_id\": \"" SW "\", \"quantity\": 0}]}", "bom[0].quantity"},
		{"{\"bom\": [{\"ref\": \"a\", \"product_id\": \"" SW "\", \"quantity\": 2}],"
		 " \"links\": [{\"from\": \"a\", \"to\": \"a#2\", \"distance_m\": 1}]}", "links[0].from"},
		{"{\"bom\": [{\"ref\": \"a\", \"product_id\": \"" SW "\", \"quantity\": 2}],"
		 " \"links\": [{\"from\": \"a#1\", \"to\": \"a#3\", \"distance_m\": 1}]}", "links[0].to"},
		{"{\"bom\": [{\"ref\": \"a\", \"product_id\": \"" SW "\", \"quantity\": 2}],"
		 " \"links\": [{\"from\": \"a#1\", \"to\": \"a#1\", \"distance_m\": 1}]}", "links[0].to"},
		{"{\"bom\": [{\"ref\": \"a\", \"product_id\": \"" SW "\", \"quantity\": 2}],"
		 " \"links\": [{\"from\": \"a#1\", \"to\": \"a#2\", \"distance_m\": 0}]}", "links[0].distance_m"},
		{"{\"bom\": [{\"ref\": \"a\", \"product_id\": \"" SW "\", \"quantity\": 2}],"
		 " \"links\": [{\"from\": \"a#1\", \"to\": \"a#2\", \"distance_m\": 1, \"medium\": \"wifi\"}]}", "links[0].medium"},
		{"{\"slack_percent\": 101, \"bom\": []}", "slack_percent"},
		{"{\"standard_lengths_m\": [5, 2], \"bom\": []}", "standard_lengths_m[1]"},
		{"{\"extra\": 1}", "extra"},
		{"{\"\": 1}", "\"\""}, /* an empty key is still named (found by fuzz_cable_plan) */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *msg = parse(cases[i].body);
		cr_assert_not_null(msg, "case %zu accepted", i);
		cr_assert_str_eq(field, cases[i].field, "case %zu: %s (%s)", i, field, msg);
	}
}

Test(cable_plan, attributes_are_checked_key_by_key)
{
	struct {
		const char *json, *field;
	} cases[] = {
		{"[]", "attributes"},
		{"{\"colour\": \"red\"}", "attributes.colour"},
		{"{\"poe_budget_w\": -1}", "attributes.poe_budget_w"},
		{"{\"poe_draw_w\": \"15\"}", "attributes.poe_draw_w"},
		{"{\"rack_units\": 1.5}", "attributes.rack_units"},
		{"{\"ports\": []}", "attributes.ports"},
		{"{\"ports\": [{\"count\": 0, \"type\": \"rj45\", \"speed_mbps\": 1}]}", "attributes.ports[0].count"},
		{"{\"ports\": [{\"count\": 1, \"type\": \"usb\", \"speed_mbps\": 1}]}", "attributes.ports[0].type"},
		{"{\"ports\": [{\"count\": 1, \"type\": \"rj45\"}]}", "attributes.ports[0].speed_mbps"},
		{"{\"ports\": [{\"count\": 1, \"type\": \"rj45\", \"speed_mbps\": 1, \"x\": 1}]}", "attributes.ports[0].x"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		struct cp_attrs a;
		const char *msg = cp_attrs_parse(j, &a, field, sizeof(field));
		json_decref(j);
		cr_assert_not_null(msg, "case %zu accepted", i);
		cr_assert_str_eq(field, cases[i].field, "case %zu: %s", i, field);
	}
	struct cp_attrs a;
	attrs("{\"ports\": [{\"count\": 2, \"type\": \"rj45\", \"speed_mbps\": 1000},"
	      " {\"count\": 3, \"type\": \"rj45\", \"speed_mbps\": 100}], \"power_w\": 12.25}", &a);
	cr_assert_eq(a.ports[CP_RJ45], 5);
	cr_assert_eq(a.power_dw, 123);  /* 122.5 rounds away from zero */
	cr_assert_eq(a.poe_budget_dw, -1);
}
