/*
 * cable_plan.h - the cable calculation: pure functions, no I/O.
 *
 * Input: a bill of materials (lines `ref` x quantity of a product, whose
 * attributes the caller loaded), links between device instances ("ref"
 * when the line's quantity is 1, "ref#k" for its k-th unit) with their
 * distance, and a configuration (slack percent, the standard lengths
 * cables are sold in). Output: the cables by medium and length (distance
 * plus slack, rounded up to a standard length, or to a whole metre beyond
 * the longest), each device's ports used against its ports, the PoE drawn
 * from each switch against its budget, and problems[] for what does not
 * fit (too many links on a port type, PoE over budget, a run longer than
 * its medium allows).
 *
 * Units are integers so results are exact and hand-checkable: lengths in
 * centimetres, power in deciwatts (0.1 W).
 */
#ifndef ATRIUM_CABLE_PLAN_H
#define ATRIUM_CABLE_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum cp_port { CP_RJ45, CP_SFP, CP_SFP_PLUS, CP_SFP28, CP_QSFP28, CP_NPORTS };
enum cp_medium { CP_COPPER, CP_DAC, CP_FIBER_MM, CP_FIBER_SM, CP_NMEDIA };

extern const char *const cp_port_names[CP_NPORTS];     /* rj45, sfp, sfp_plus, sfp28, qsfp28 */
extern const char *const cp_medium_names[CP_NMEDIA];   /* copper, dac, fiber_mm, fiber_sm */
extern const char *const cp_cable_types[CP_NMEDIA];    /* cat6a_utp, dac_twinax, om4_lc_lc, os2_lc_lc */
extern const long cp_medium_max_cm[CP_NMEDIA];         /* 100 m, 7 m, 400 m, 10 km */

/* What a product's attributes say, parsed. -1: absent. */
struct cp_attrs {
	int ports[CP_NPORTS];
	long poe_budget_dw, poe_draw_dw, power_dw;
	int rack_units;
};

/*
 * Checks a product's `attributes` object (the known keys only: ports,
 * poe_budget_w, poe_draw_w, power_w, rack_units) and fills out. NULL when
 * valid; else a static message, with the offending key path in field.
 */
const char *cp_attrs_parse(json_t *attrs, struct cp_attrs *out, char *field, size_t len);

#define CP_MAX_BOM 100
#define CP_MAX_DEVICES 1000
#define CP_MAX_LINKS 1000
#define CP_MAX_LENGTHS 32
#define CP_MAX_PROBLEMS 200

struct cp_bom_line {
	char ref[33];
	char product_id[37];
	int quantity;
	int first;          /* index of its first device */
};

struct cp_link {
	int from, to;       /* device indexes */
	long distance_cm;
	int medium;         /* enum cp_medium, -1: chosen from the ports */
	int count;          /* parallel cables */
};

struct cp_request {
	int slack_percent;                 /* 0..100, default 10 */
	int n_lengths;
	long lengths_cm[CP_MAX_LENGTHS];   /* ascending */
	int n_bom, n_devices, n_links;
	struct cp_bom_line bom[CP_MAX_BOM];
	struct cp_link links[CP_MAX_LINKS];
};

/*
 * Reads a request body {bom: [{ref, product_id, quantity}], links: [{from,
 * to, distance_m, medium?, count?}], slack_percent?, standard_lengths_m?}
 * into rq (the caller's memory; large). NULL when valid, else a static
 * message and the field path.
 */
const char *cp_request_parse(json_t *body, struct cp_request *rq, char *field, size_t len);
/* The name of device d ("ref" or "ref#k") into buf. */
void cp_device_name(const struct cp_request *rq, int d, char *buf, size_t len);
/* The bom line of device d. */
int cp_device_line(const struct cp_request *rq, int d);

struct cp_cable {
	int medium;
	long length_cm;
	bool custom;        /* longer than every standard length: cut to size */
	int count;
};

struct cp_problem {
	const char *code;   /* ports_exhausted, poe_over_budget, too_long */
	int device;         /* -1 when about a link */
	int link;           /* -1 when about a device */
	char message[200];
};

struct cp_link_out {
	int medium;
	long length_cm;     /* the cable's: rounded up */
	int port_from, port_to;
};

struct cp_result {
	int ports_used[CP_MAX_DEVICES][CP_NPORTS];
	long poe_drawn_dw[CP_MAX_DEVICES];          /* drawn from this device's budget */
	struct cp_link_out links[CP_MAX_LINKS];
	int n_cables;
	struct cp_cable cables[CP_MAX_LINKS];        /* by medium, then length */
	int n_problems;
	struct cp_problem problems[CP_MAX_PROBLEMS];
};

/* The plan. attrs[i] are the attributes of rq->bom[i]'s product. */
void cp_plan(const struct cp_request *rq, const struct cp_attrs *attrs, struct cp_result *out);

/* The plan as the API answers it (new reference). */
json_t *cp_result_json(const struct cp_request *rq, const struct cp_attrs *attrs,
		       const struct cp_result *res);

#endif
