/*
 * maintenance_jobs.h - platform housekeeping run by `atrium worker`:
 * the `maintenance.purge` job kind drops Idempotency-Key records past their
 * retention from every service database, hourly.
 */
#ifndef ATRIUM_MAINTENANCE_JOBS_H
#define ATRIUM_MAINTENANCE_JOBS_H

void maintenance_jobs_register(void);
/* Makes sure a purge run is queued (a worker's start). */
void maintenance_worker_start(void);

#endif
