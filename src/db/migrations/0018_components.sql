-- The web node's periodic work as Concourse's components (issue 21; GET /api/v1/components, fly
-- pause-component): each pass's interval, and whether an admin paused it. A paused pass is
-- skipped by every web node (src/db/cluster.ts's PostgresPassGate) until it is unpaused.
ALTER TABLE periodic_passes ADD COLUMN interval_ms bigint;
ALTER TABLE periodic_passes ADD COLUMN paused boolean NOT NULL DEFAULT false;
