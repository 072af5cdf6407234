-- The order of a group's instanced pipelines among themselves (issue 21; Concourse's
-- pipelines.secondary_ordering, set by PUT .../pipelines/:name/ordering and fly
-- order-instanced-pipelines): pipelines list by ordering (the group's place), then this.
ALTER TABLE pipelines ADD COLUMN secondary_ordering integer NOT NULL DEFAULT 0;
