-- W3C Trace Context of the request that queued a job: the worker continues
-- that trace (each attempt and step a child span of the request's span),
-- so one request can be followed through the job to its Azure calls.
-- NULL for jobs queued outside a request (periodic work): they start their
-- own trace.
ALTER TABLE jobs
    ADD COLUMN traceparent text CHECK (traceparent IS NULL OR length(traceparent) = 55),
    ADD COLUMN tracestate  text CHECK (tracestate IS NULL OR length(tracestate) <= 512);
