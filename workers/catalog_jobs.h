/*
 * catalog_jobs.h - the catalog's media jobs: catalog.media.verify (read
 * an uploaded blob, check its size, type and SHA-256, mark it ready or
 * rejected and delete it) and catalog.media.delete (remove the blob, then
 * the row). The media containers are made when a worker starts.
 */
#ifndef ATRIUM_CATALOG_JOBS_H
#define ATRIUM_CATALOG_JOBS_H

void catalog_jobs_register(void);
/* Creates the containers product-images, visio-stencils and documents
 * (existing ones are fine); logs what fails, the next start retries. */
void catalog_worker_start(void);

#endif
