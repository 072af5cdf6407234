-- A job's builds, newest first (listJobBuilds in src/db/builds.ts: the job page, `fly builds -j`),
-- one page at a time. builds_job_order_idx sorts by coalesce(rerun_of, id) first, so it cannot give
-- `ORDER BY id DESC`; Postgres's generic plan for the prepared statement (src/db/database.ts,
-- StatementNames) then walked the primary key backwards over every newer build of every job,
-- filtering on job_id: 11,000 index entries for a page of 100 in bench/api.ts, a million for a quiet
-- job on a busy installation. This index gives the page in order (issue 23).
CREATE INDEX builds_job_id_idx ON builds (job_id, id DESC) WHERE job_id IS NOT NULL;
