-- When a resource cache was last created or found again: the collector removes caches nothing
-- keeps alive only once they have not been referenced for a grace period, so a cache a running
-- step just found is never collected under it (Jetway records no resource_cache_uses).
ALTER TABLE resource_caches ADD COLUMN last_referenced timestamptz NOT NULL DEFAULT now();
CREATE INDEX resource_caches_last_referenced_idx ON resource_caches (last_referenced);
CREATE INDEX resource_configs_last_referenced_idx ON resource_configs (last_referenced);
