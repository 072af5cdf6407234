-- A lease instead of a session-level advisory lock for "one check of a scope at a time": a
-- running check holds no database connection, so many concurrent checks cannot exhaust the pool,
-- and a web node that dies mid-check frees the scope when the lease expires.
ALTER TABLE resource_config_scopes ADD COLUMN check_lease_owner text;
ALTER TABLE resource_config_scopes ADD COLUMN check_lease_until timestamptz;
