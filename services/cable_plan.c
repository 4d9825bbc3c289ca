/*
 * cable_plan.c - the cable calculation. See cable_plan.h. No I/O: the
 * handler (handlers/catalog.c) loads the products' attributes and answers.
 *
 * Rules, so a result can be checked by hand:
 *   - a link's medium is the one it names, else copper when both ends
 *     still have a free RJ45 port, else multimode fibre when both have a
 *     free SFP family port, else copper when both have RJ45 ports at all
 *     (and run out: flagged), else multimode fibre;
 *   - copper takes an RJ45 port at each end; the other media take an SFP
 *     family port: the first of sfp_plus, sfp28, sfp, qsfp28 with room
 *     (else the first the device has, else sfp_plus: flagged below);
 *   - cable length = ceil(distance x (100 + slack) / 100), in cm, then the
 *     smallest standard length that holds it, or whole metres beyond the
 *     longest ("custom"); longer than the medium allows: too_long;
 *   - PoE: over copper, a device with a draw and no budget of its own is
 *     powered by the other end when that one has a budget, once per device;
 *     the sum per switch over its budget: poe_over_budget;
 *   - ports used over ports present, per device and type: ports_exhausted.
 */
#include "services/cable_plan.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cp_port_names[CP_NPORTS] = {"rj45", "sfp", "sfp_plus", "sfp28", "qsfp28"};
const char *const cp_medium_names[CP_NMEDIA] = {"copper", "dac", "fiber_mm", "fiber_sm"};
const char *const cp_cable_types[CP_NMEDIA] = {"cat6a_utp", "dac_twinax", "om4_lc_lc",
						"os2_lc_lc"};
const long cp_medium_max_cm[CP_NMEDIA] = {10000, 700, 40000, 1000000};

/* Standard lengths when the request names none, in cm. */
static const long default_lengths_cm[] = {50, 100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000};

static int find_name(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* A JSON integer in [lo, hi] (a real with no fraction counts too). */
static bool int_in(json_t *v, long long lo, long long hi, long long *out)
{
	double d;
	if (json_is_integer(v))
		d = (double)json_integer_value(v);
	else if (json_is_real(v))
		d = json_real_value(v);
	else
		return false;
	if (d != floor(d) || d < (double)lo || d > (double)hi)
		return false;
	*out = (long long)d;
	return true;
}

/* A JSON number in [0, 100000] watts, as deciwatts (rounded). */
static bool watts(json_t *v, long *dw)
{
	if (!json_is_number(v))
		return false;
	double w = json_number_value(v);
	if (!(w >= 0 && w <= 100000))
		return false;
	*dw = lround(w * 10);
	return true;
}

#define FAIL(msg, ...)                                     \
	do {                                               \
		snprintf(field, len, __VA_ARGS__);         \
		return msg;                                \
	} while (0)

const char *cp_attrs_parse(json_t *attrs, struct cp_attrs *out, char *field, size_t len)
{
	memset(out, 0, sizeof(*out));
	out->poe_budget_dw = out->poe_draw_dw = out->power_dw = -1;
	out->rack_units = -1;
	if (!json_is_object(attrs))
		FAIL("must be an object", "attributes");
	const char *key;
	json_t *v;
	json_object_foreach(attrs, key, v) {
		long long n;
		if (strcmp(key, "poe_budget_w") == 0 || strcmp(key, "poe_draw_w") == 0 ||
		    strcmp(key, "power_w") == 0) {
			long *dst = key[4] == 'b' ? &out->poe_budget_dw
				    : key[4] == 'd' ? &out->poe_draw_dw : &out->power_dw;
			if (!watts(v, dst))
				FAIL("must be a number of watts from 0 to 100000", "attributes.%s", key);
		} else if (strcmp(key, "rack_units") == 0) {
			if (!int_in(v, 0, 60, &n))
				FAIL("must be an integer from 0 to 60", "attributes.rack_units");
			out->rack_units = (int)n;
		} else if (strcmp(key, "ports") == 0) {
			if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 32)
				FAIL("must be an array of 1 to 32 port groups", "attributes.ports");
			size_t i;
			json_t *p;
			json_array_foreach(v, i, p) {
				if (!json_is_object(p))
					FAIL("must be an object {count, type, speed_mbps}",
					     "attributes.ports[%zu]", i);
				const char *pk;
				json_t *pv;
				json_object_foreach(p, pk, pv)
					if (strcmp(pk, "count") && strcmp(pk, "type") && strcmp(pk, "speed_mbps"))
						FAIL("is not a known field", "attributes.ports[%zu].%.40s", i, pk);
				long long count, speed;
				if (!int_in(json_object_get(p, "count"), 1, 1024, &count))
					FAIL("must be an integer from 1 to 1024", "attributes.ports[%zu].count", i);
				json_t *t = json_object_get(p, "type");
				int type = json_is_string(t)
						   ? find_name(cp_port_names, CP_NPORTS, json_string_value(t))
						   : -1;
				if (type < 0)
					FAIL("must be rj45, sfp, sfp_plus, sfp28 or qsfp28",
					     "attributes.ports[%zu].type", i);
				if (!int_in(json_object_get(p, "speed_mbps"), 1, 400000, &speed))
					FAIL("must be an integer from 1 to 400000",
					     "attributes.ports[%zu].speed_mbps", i);
				out->ports[type] += (int)count;
			}
		} else {
			FAIL("is not a known attribute (ports, poe_budget_w, poe_draw_w, power_w, "
			     "rack_units)", "attributes.%.60s", key);
		}
	}
	return NULL;
}

static bool valid_ref(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static bool valid_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];
		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
					(c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* "ref" (a line of quantity 1) or "ref#k" to a device index; -1 if none. */
static int resolve(const struct cp_request *rq, const char *name)
{
	char ref[40];
	long k = 0;
	const char *hash = strchr(name, '#');
	size_t n = hash ? (size_t)(hash - name) : strlen(name);
	if (n >= sizeof(ref))
		return -1;
	memcpy(ref, name, n);
	ref[n] = '\0';
	if (hash) {
		char *end;
		k = strtol(hash + 1, &end, 10);
		if (hash[1] < '1' || hash[1] > '9' || *end != '\0')
			return -1;
	}
	for (int i = 0; i < rq->n_bom; i++) {
		if (strcmp(rq->bom[i].ref, ref) != 0)
			continue;
		if (!hash)
			return rq->bom[i].quantity == 1 ? rq->bom[i].first : -1;
		return k <= rq->bom[i].quantity ? rq->bom[i].first + (int)k - 1 : -1;
	}
	return -1;
}

static const char *parse_config(json_t *body, struct cp_request *rq, char *field, size_t len)
{
	rq->slack_percent = 10;
	json_t *slack = json_object_get(body, "slack_percent");
	long long n;
	if (slack) {
		if (!int_in(slack, 0, 100, &n))
			FAIL("must be an integer from 0 to 100", "slack_percent");
		rq->slack_percent = (int)n;
	}
	json_t *lengths = json_object_get(body, "standard_lengths_m");
	if (lengths == NULL) {
		rq->n_lengths = (int)(sizeof(default_lengths_cm) / sizeof(default_lengths_cm[0]));
		memcpy(rq->lengths_cm, default_lengths_cm, sizeof(default_lengths_cm));
		return NULL;
	}
	if (!json_is_array(lengths) || json_array_size(lengths) < 1 ||
	    json_array_size(lengths) > CP_MAX_LENGTHS)
		FAIL("must be an array of 1 to 32 lengths in metres", "standard_lengths_m");
	size_t i;
	json_t *v;
	json_array_foreach(lengths, i, v) {
		double m = json_is_number(v) ? json_number_value(v) : -1;
		long cm = lround(m * 100);
		if (!(m > 0 && m <= 10000) || fabs(m * 100 - (double)cm) > 1e-6)
			FAIL("must be a length from 0.01 to 10000 m, in whole centimetres",
			     "standard_lengths_m[%zu]", i);
		if (i > 0 && cm <= rq->lengths_cm[i - 1])
			FAIL("must be in ascending order", "standard_lengths_m[%zu]", i);
		rq->lengths_cm[i] = cm;
	}
	rq->n_lengths = (int)json_array_size(lengths);
	return NULL;
}

static const char *parse_bom(json_t *bom, struct cp_request *rq, char *field, size_t len)
{
	if (!json_is_array(bom) || json_array_size(bom) < 1 || json_array_size(bom) > CP_MAX_BOM)
		FAIL("must be an array of 1 to 100 lines", "bom");
	size_t i;
	json_t *line;
	json_array_foreach(bom, i, line) {
		struct cp_bom_line *b = &rq->bom[i];
		if (!json_is_object(line))
			FAIL("must be an object {ref, product_id, quantity}", "bom[%zu]", i);
		const char *k;
		json_t *v;
		json_object_foreach(line, k, v)
			if (strcmp(k, "ref") && strcmp(k, "product_id") && strcmp(k, "quantity"))
				FAIL("is not a known field", "bom[%zu].%.40s", i, k);
		const char *ref = json_string_value(json_object_get(line, "ref"));
		if (ref == NULL || !valid_ref(ref))
			FAIL("must be 1 to 32 letters, digits, '-', '_' or '.'", "bom[%zu].ref", i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(rq->bom[j].ref, ref) == 0)
				FAIL("is used by another line", "bom[%zu].ref", i);
		const char *pid = json_string_value(json_object_get(line, "product_id"));
		if (pid == NULL || !valid_uuid(pid))
			FAIL("must be a UUID", "bom[%zu].product_id", i);
		long long q = 1;
		json_t *qv = json_object_get(line, "quantity");
		if (qv && !int_in(qv, 1, CP_MAX_DEVICES, &q))
			FAIL("must be an integer from 1 to 1000", "bom[%zu].quantity", i);
		if (rq->n_devices + q > CP_MAX_DEVICES)
			FAIL("makes more than 1000 devices in all", "bom[%zu].quantity", i);
		snprintf(b->ref, sizeof(b->ref), "%s", ref);
		snprintf(b->product_id, sizeof(b->product_id), "%s", pid);
		for (char *p = b->product_id; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
		b->quantity = (int)q;
		b->first = rq->n_devices;
		rq->n_devices += (int)q;
		rq->n_bom = (int)i + 1;
	}
	return NULL;
}

static const char *parse_links(json_t *links, struct cp_request *rq, char *field, size_t len)
{
	if (!json_is_array(links) || json_array_size(links) > CP_MAX_LINKS)
		FAIL("must be an array of at most 1000 links", "links");
	size_t i;
	json_t *l;
	json_array_foreach(links, i, l) {
		struct cp_link *k = &rq->links[i];
		if (!json_is_object(l))
			FAIL("must be an object {from, to, distance_m, medium?, count?}", "links[%zu]", i);
		const char *key;
		json_t *v;
		json_object_foreach(l, key, v)
			if (strcmp(key, "from") && strcmp(key, "to") && strcmp(key, "distance_m") &&
			    strcmp(key, "medium") && strcmp(key, "count"))
				FAIL("is not a known field", "links[%zu].%.40s", i, key);
		const char *from = json_string_value(json_object_get(l, "from"));
		const char *to = json_string_value(json_object_get(l, "to"));
		k->from = from ? resolve(rq, from) : -1;
		k->to = to ? resolve(rq, to) : -1;
		if (k->from < 0)
			FAIL("must name a device of the bom: ref, or ref#k when its quantity is over 1",
			     "links[%zu].from", i);
		if (k->to < 0)
			FAIL("must name a device of the bom: ref, or ref#k when its quantity is over 1",
			     "links[%zu].to", i);
		if (k->from == k->to)
			FAIL("must be another device than from", "links[%zu].to", i);
		json_t *d = json_object_get(l, "distance_m");
		double m = json_is_number(d) ? json_number_value(d) : -1;
		if (!(m > 0 && m <= 100000))
			FAIL("must be a number of metres over 0, at most 100000", "links[%zu].distance_m", i);
		k->distance_cm = lround(ceil(m * 100 - 1e-9));
		k->medium = -1;
		json_t *med = json_object_get(l, "medium");
		if (med) {
			k->medium = json_is_string(med)
					    ? find_name(cp_medium_names, CP_NMEDIA, json_string_value(med))
					    : -1;
			if (k->medium < 0)
				FAIL("must be copper, dac, fiber_mm or fiber_sm", "links[%zu].medium", i);
		}
		long long count = 1;
		json_t *cv = json_object_get(l, "count");
		if (cv && !int_in(cv, 1, 48, &count))
			FAIL("must be an integer from 1 to 48", "links[%zu].count", i);
		k->count = (int)count;
		rq->n_links = (int)i + 1;
	}
	return NULL;
}

const char *cp_request_parse(json_t *body, struct cp_request *rq, char *field, size_t len)
{
	memset(rq, 0, sizeof(*rq));
	if (!json_is_object(body))
		FAIL("must be an object", "body");
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v)
		if (strcmp(key, "bom") && strcmp(key, "links") && strcmp(key, "slack_percent") &&
		    strcmp(key, "standard_lengths_m"))
			FAIL("is not a known field", "%.60s", key[0] ? key : "\"\"");
	const char *msg = parse_config(body, rq, field, len);
	if (msg == NULL)
		msg = parse_bom(json_object_get(body, "bom"), rq, field, len);
	json_t *links = json_object_get(body, "links");
	if (msg == NULL && links)
		msg = parse_links(links, rq, field, len);
	return msg;
}

int cp_device_line(const struct cp_request *rq, int d)
{
	for (int i = rq->n_bom - 1; i >= 0; i--)
		if (d >= rq->bom[i].first)
			return i;
	return 0;
}

void cp_device_name(const struct cp_request *rq, int d, char *buf, size_t len)
{
	const struct cp_bom_line *b = &rq->bom[cp_device_line(rq, d)];
	if (b->quantity == 1)
		snprintf(buf, len, "%s", b->ref);
	else
		snprintf(buf, len, "%s#%d", b->ref, d - b->first + 1);
}

static void problem(struct cp_result *out, const char *code, int device, int link,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void problem(struct cp_result *out, const char *code, int device, int link,
		    const char *fmt, ...)
{
	if (out->n_problems == CP_MAX_PROBLEMS)
		return;
	struct cp_problem *p = &out->problems[out->n_problems++];
	p->code = code;
	p->device = device;
	p->link = link;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
}

/* The port type a link of `medium` takes on device d. */
static int pick_port(const struct cp_attrs *a, const int *used, int medium, int count)
{
	if (medium == CP_COPPER)
		return CP_RJ45;
	static const int order[] = {CP_SFP_PLUS, CP_SFP28, CP_SFP, CP_QSFP28};
	for (int i = 0; i < 4; i++)
		if (used[order[i]] + count <= a->ports[order[i]])
			return order[i];
	for (int i = 0; i < 4; i++)
		if (a->ports[order[i]] > 0)
			return order[i];
	return CP_SFP_PLUS;
}

static int sfp_free(const struct cp_attrs *a, const int *used, int count)
{
	int free_ports = 0;
	for (int p = CP_SFP; p < CP_NPORTS; p++)
		free_ports += used[p] + count <= a->ports[p];
	return free_ports;
}

/* The medium of a link that names none (see the rules above). */
static int auto_medium(const struct cp_attrs *fa, const int *fu, const struct cp_attrs *ta,
		       const int *tu, int count)
{
	if (fu[CP_RJ45] + count <= fa->ports[CP_RJ45] && tu[CP_RJ45] + count <= ta->ports[CP_RJ45])
		return CP_COPPER;
	if (sfp_free(fa, fu, count) && sfp_free(ta, tu, count))
		return CP_FIBER_MM;
	if (fa->ports[CP_RJ45] > 0 && ta->ports[CP_RJ45] > 0)
		return CP_COPPER;
	return CP_FIBER_MM;
}

static void add_cable(struct cp_result *out, int medium, long length_cm, bool custom, int count)
{
	int i = 0;
	while (i < out->n_cables && (out->cables[i].medium < medium ||
				     (out->cables[i].medium == medium &&
				      out->cables[i].length_cm < length_cm)))
		i++;
	if (i < out->n_cables && out->cables[i].medium == medium &&
	    out->cables[i].length_cm == length_cm) {
		out->cables[i].count += count;
		return;
	}
	memmove(&out->cables[i + 1], &out->cables[i], (size_t)(out->n_cables - i) * sizeof(out->cables[0]));
	out->cables[i] = (struct cp_cable){medium, length_cm, custom, count};
	out->n_cables++;
}

void cp_plan(const struct cp_request *rq, const struct cp_attrs *attrs, struct cp_result *out)
{
	memset(out, 0, sizeof(*out));
	bool powered[CP_MAX_DEVICES] = {false};
	char a[48], b[48];
	for (int i = 0; i < rq->n_links; i++) {
		const struct cp_link *l = &rq->links[i];
		const struct cp_attrs *fa = &attrs[cp_device_line(rq, l->from)];
		const struct cp_attrs *ta = &attrs[cp_device_line(rq, l->to)];
		int *fu = out->ports_used[l->from], *tu = out->ports_used[l->to];
		int medium = l->medium;
		if (medium < 0)
			medium = auto_medium(fa, fu, ta, tu, l->count);
		int pf = pick_port(fa, fu, medium, l->count), pt = pick_port(ta, tu, medium, l->count);
		fu[pf] += l->count;
		tu[pt] += l->count;

		/* distance + slack, rounded up to the centimetre */
		long need = (l->distance_cm * (100 + rq->slack_percent) + 99) / 100;
		long length = 0;
		for (int s = 0; s < rq->n_lengths && length == 0; s++)
			if (rq->lengths_cm[s] >= need)
				length = rq->lengths_cm[s];
		bool custom = length == 0;
		if (custom)
			length = (need + 99) / 100 * 100;
		out->links[i] = (struct cp_link_out){medium, length, pf, pt};
		add_cable(out, medium, length, custom, l->count);
		if (need > cp_medium_max_cm[medium]) {
			cp_device_name(rq, l->from, a, sizeof(a));
			cp_device_name(rq, l->to, b, sizeof(b));
			problem(out, "too_long", -1, i,
				"%s to %s needs %ld.%02ld m of cable; %s allows at most %ld m", a, b,
				need / 100, need % 100, cp_medium_names[medium],
				cp_medium_max_cm[medium] / 100);
		}
		/* PoE over copper: the end with a budget powers the one that
		 * draws and has none, once per powered device. */
		if (medium == CP_COPPER) {
			int ends[2][2] = {{l->from, l->to}, {l->to, l->from}};
			for (int e = 0; e < 2; e++) {
				const struct cp_attrs *src = &attrs[cp_device_line(rq, ends[e][0])];
				const struct cp_attrs *dst = &attrs[cp_device_line(rq, ends[e][1])];
				if (src->poe_budget_dw >= 0 && dst->poe_draw_dw >= 0 &&
				    dst->poe_budget_dw < 0 && !powered[ends[e][1]]) {
					powered[ends[e][1]] = true;
					out->poe_drawn_dw[ends[e][0]] += dst->poe_draw_dw;
				}
			}
		}
	}
	for (int d = 0; d < rq->n_devices; d++) {
		const struct cp_attrs *da = &attrs[cp_device_line(rq, d)];
		cp_device_name(rq, d, a, sizeof(a));
		for (int p = 0; p < CP_NPORTS; p++)
			if (out->ports_used[d][p] > da->ports[p])
				problem(out, "ports_exhausted", d, -1,
					"%s needs %d %s ports and has %d", a, out->ports_used[d][p],
					cp_port_names[p], da->ports[p]);
		if (da->poe_budget_dw >= 0 && out->poe_drawn_dw[d] > da->poe_budget_dw)
			problem(out, "poe_over_budget", d, -1,
				"%s powers %ld.%ld W of PoE devices; its budget is %ld.%ld W", a,
				out->poe_drawn_dw[d] / 10, out->poe_drawn_dw[d] % 10,
				da->poe_budget_dw / 10, da->poe_budget_dw % 10);
	}
}

static json_t *metres(long cm)
{
	return json_real((double)cm / 100.0);
}

json_t *cp_result_json(const struct cp_request *rq, const struct cp_attrs *attrs,
		       const struct cp_result *res)
{
	json_t *lengths = json_array();
	for (int i = 0; i < rq->n_lengths; i++)
		json_array_append_new(lengths, metres(rq->lengths_cm[i]));
	json_t *cables = json_array();
	for (int i = 0; i < res->n_cables; i++) {
		const struct cp_cable *c = &res->cables[i];
		json_array_append_new(cables, json_pack("{s:s, s:s, s:o, s:b, s:i}", "type",
							cp_cable_types[c->medium], "medium",
							cp_medium_names[c->medium], "length_m",
							metres(c->length_cm), "custom_length", c->custom,
							"count", c->count));
	}
	char a[48], b[48];
	json_t *links = json_array();
	for (int i = 0; i < rq->n_links; i++) {
		const struct cp_link *l = &rq->links[i];
		const struct cp_link_out *o = &res->links[i];
		cp_device_name(rq, l->from, a, sizeof(a));
		cp_device_name(rq, l->to, b, sizeof(b));
		json_array_append_new(
			links, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:i, s:s, s:s}", "from", a,
					 "to", b, "medium", cp_medium_names[o->medium], "cable_type",
					 cp_cable_types[o->medium], "distance_m", metres(l->distance_cm),
					 "cable_length_m", metres(o->length_cm), "count", l->count,
					 "from_port", cp_port_names[o->port_from], "to_port",
					 cp_port_names[o->port_to]));
	}
	json_t *devices = json_array();
	for (int d = 0; d < rq->n_devices; d++) {
		int line = cp_device_line(rq, d);
		const struct cp_attrs *da = &attrs[line];
		cp_device_name(rq, d, a, sizeof(a));
		json_t *ports = json_array();
		for (int p = 0; p < CP_NPORTS; p++)
			if (da->ports[p] > 0 || res->ports_used[d][p] > 0)
				json_array_append_new(ports, json_pack("{s:s, s:i, s:i}", "type",
								       cp_port_names[p], "used",
								       res->ports_used[d][p], "available",
								       da->ports[p]));
		json_t *poe = json_null();
		if (da->poe_budget_dw >= 0)
			poe = json_pack("{s:o, s:o}", "budget_w", json_real(da->poe_budget_dw / 10.0),
					"drawn_w", json_real(res->poe_drawn_dw[d] / 10.0));
		json_array_append_new(devices, json_pack("{s:s, s:s, s:o, s:o}", "device", a,
							 "product_id", rq->bom[line].product_id,
							 "ports", ports, "poe", poe));
	}
	json_t *problems = json_array();
	for (int i = 0; i < res->n_problems; i++) {
		const struct cp_problem *p = &res->problems[i];
		json_t *o = json_pack("{s:s, s:s}", "code", p->code, "message", p->message);
		if (p->device >= 0) {
			cp_device_name(rq, p->device, a, sizeof(a));
			json_object_set_new(o, "device", json_string(a));
		}
		if (p->link >= 0)
			json_object_set_new(o, "link", json_integer(p->link));
		json_array_append_new(problems, o);
	}
	return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o}", "slack_percent", rq->slack_percent,
			 "standard_lengths_m", lengths, "cables", cables, "links", links, "devices",
			 devices, "problems", problems);
}
