-- In-memory checks (issue 23; docs/in-process-checks.md, "Checks without a build"): a periodic
-- check of a built-in type runs in the web node without a `builds` row, as Concourse's in-memory
-- check builds (its resources.in_memory_build_* columns). The resource records its latest one:
-- an id from the builds' sequence (so it orders with check builds and names the check), its
-- status and times. One that did not succeed becomes a completed check build of the same id,
-- with its events, and the record here is cleared.
ALTER TABLE resources
  ADD COLUMN in_memory_check_id integer,
  ADD COLUMN in_memory_check_status text CHECK (in_memory_check_status IN ('started', 'succeeded', 'failed', 'errored', 'aborted')),
  ADD COLUMN in_memory_check_start timestamptz,
  ADD COLUMN in_memory_check_end timestamptz;

-- GET /api/v1/builds/:id of an in-memory check
CREATE INDEX resources_in_memory_check_idx ON resources (in_memory_check_id) WHERE in_memory_check_id IS NOT NULL;
