-- Several web nodes on one Postgres (issue 17; docs/web-nodes.md). A web node is a row with a
-- heartbeat; a running build is owned by one node through a lease the owner renews with its
-- heartbeat, and only an expired lease lets another node take the build over. Periodic work
-- (scheduling passes, check scans, GC, the Kubernetes reaper) takes a per-pass lease, so it runs
-- once per interval across the cluster.
CREATE TABLE web_nodes (
  name         text PRIMARY KEY,
  -- a new one per process: builds owned by an older incarnation of this name died with it
  incarnation  text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  -- SIGTERM: it starts nothing new and hands its builds over
  draining     boolean NOT NULL DEFAULT false
);

ALTER TABLE builds ADD COLUMN owner_node text;
ALTER TABLE builds ADD COLUMN lease_until timestamptz;
CREATE INDEX builds_owner_idx ON builds (owner_node) WHERE NOT completed;

CREATE TABLE periodic_passes (
  name        text PRIMARY KEY,
  holder      text,
  held_until  timestamptz,
  -- when the pass last began anywhere in the cluster
  last_run_at timestamptz
);

-- A build event's writer key (its writer and its position in that writer's stream): a write
-- retried after the answer to its COMMIT was lost (the database went away) is not saved twice.
ALTER TABLE build_events ADD COLUMN writer_key text;
CREATE UNIQUE INDEX build_events_writer_key_idx ON build_events (build_id, writer_key) WHERE writer_key IS NOT NULL;
