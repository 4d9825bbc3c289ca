/* Unit tests for server/jobs/jobs.c: the retry backoff (capped, exponential,
 * with equal jitter: between half the ceiling and the ceiling). */
#include <criterion/criterion.h>

#include "server/jobs/jobs.h"

Test(jobs, backoff_doubles_per_attempt_within_half_and_whole_ceiling)
{
	for (int attempt = 1; attempt <= 6; attempt++) {
		int ceiling = 1000 << (attempt - 1);
		for (int k = 0; k < 200; k++) {
			int ms = jobs_backoff_ms(attempt, 1000, 1000000);
			cr_assert(ms >= ceiling / 2 && ms <= ceiling, "attempt %d: %d ms outside [%d, %d]",
				  attempt, ms, ceiling / 2, ceiling);
		}
	}
}

Test(jobs, backoff_is_capped_however_many_attempts)
{
	for (int attempt = 1; attempt <= 200; attempt += 7) {
		int ms = jobs_backoff_ms(attempt, 2000, 300000);
		cr_assert(ms >= 0 && ms <= 300000, "attempt %d: %d ms", attempt, ms);
	}
	/* Far past the cap, no overflow: still within [cap/2, cap]. */
	for (int k = 0; k < 100; k++) {
		int ms = jobs_backoff_ms(1000000, 2000, 300000);
		cr_assert(ms >= 150000 && ms <= 300000, "%d ms", ms);
	}
}

Test(jobs, backoff_spreads_retries_out)
{
	int lo = 1 << 30, hi = 0;
	for (int k = 0; k < 500; k++) {
		int ms = jobs_backoff_ms(5, 1000, 1000000);
		lo = ms < lo ? ms : lo;
		hi = ms > hi ? ms : hi;
	}
	cr_assert(hi - lo > 2000, "500 draws spread only %d..%d ms", lo, hi);
}
