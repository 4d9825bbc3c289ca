/*
 * fuzz_cable_plan - services/cable_plan.c: cp_request_parse() and
 * cp_attrs_parse() on untrusted JSON (the body of POST .../cable-plans and
 * a product's attributes), then cp_plan() and cp_result_json().
 *
 * Input: the request JSON, then a 0x01 byte, then a JSON array of
 * attribute objects (line i of the bill of materials gets element i
 * modulo its length; an invalid one gets no ports and no PoE).
 * Invariants on a request that parses: every link names two different
 * devices of the bill; each cable is at least the distance plus slack and
 * a standard length unless custom; cables add up to the links' counts;
 * ports used add up to twice the cables; the JSON result is built.
 */
#include "tests/fuzz/fuzz_common.h"
#include "services/cable_plan.h"

#include <jansson.h>

static struct cp_request rq;
static struct cp_result res;
static struct cp_attrs attrs[CP_MAX_BOM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[2];
	fuzz_fields(data, size, '\x01', f, 2);
	json_t *body = json_loads(f[0], JSON_DECODE_ANY, NULL);
	json_t *alist = json_loads(f[1], JSON_DECODE_ANY, NULL);
	char field[128];
	const char *msg = cp_request_parse(body, &rq, field, sizeof(field));
	if (msg == NULL) {
		FUZZ_CHECK(rq.n_bom >= 1 && rq.n_bom <= CP_MAX_BOM, "n_bom %d", rq.n_bom);
		FUZZ_CHECK(rq.n_devices >= rq.n_bom && rq.n_devices <= CP_MAX_DEVICES, "n_devices %d", rq.n_devices);
		for (int i = 0; i < rq.n_bom; i++) {
			size_t n = json_is_array(alist) ? json_array_size(alist) : 0;
			json_t *a = n ? json_array_get(alist, (size_t)i % n) : NULL;
			if (a == NULL || cp_attrs_parse(a, &attrs[i], field, sizeof(field)) != NULL) {
				memset(&attrs[i], 0, sizeof(attrs[i]));
				attrs[i].poe_budget_dw = attrs[i].poe_draw_dw = attrs[i].power_dw = -1;
				attrs[i].rack_units = -1;
			}
		}
		cp_plan(&rq, attrs, &res);
		long links = 0, cables = 0, used = 0;
		for (int i = 0; i < rq.n_links; i++) {
			const struct cp_link *l = &rq.links[i];
			FUZZ_CHECK(l->from >= 0 && l->from < rq.n_devices && l->to >= 0 &&
					   l->to < rq.n_devices && l->from != l->to,
				   "link %d: %d -> %d", i, l->from, l->to);
			long need = (l->distance_cm * (100 + rq.slack_percent) + 99) / 100;
			FUZZ_CHECK(res.links[i].length_cm >= need, "link %d: %ld < %ld", i,
				   res.links[i].length_cm, need);
			links += l->count;
		}
		for (int i = 0; i < res.n_cables; i++) {
			cables += res.cables[i].count;
			bool standard = false;
			for (int s = 0; s < rq.n_lengths; s++)
				standard |= rq.lengths_cm[s] == res.cables[i].length_cm;
			FUZZ_CHECK(standard || res.cables[i].custom, "cable %d: %ld cm", i, res.cables[i].length_cm);
		}
		for (int d = 0; d < rq.n_devices; d++)
			for (int p = 0; p < CP_NPORTS; p++)
				used += res.ports_used[d][p];
		FUZZ_CHECK(cables == links, "cables %ld, links %ld", cables, links);
		FUZZ_CHECK(used == 2 * links, "ports used %ld, links %ld", used, links);
		json_t *j = cp_result_json(&rq, attrs, &res);
		FUZZ_CHECK(j != NULL, "no JSON result");
		char *text = json_dumps(j, JSON_COMPACT);
		FUZZ_CHECK(text != NULL, "result does not serialise");
		free(text);
		json_decref(j);
	} else {
		FUZZ_CHECK(field[0] != '\0', "refused without naming a field: %s", msg);
	}
	json_decref(body);
	json_decref(alist);
	fuzz_free_fields(f, 2);
	return 0;
}
