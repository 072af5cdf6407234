-- The build lists (GET /api/v1/builds, a team's, a pipeline's; fly builds) show job and one-off
-- builds, newest first, never check builds (listBuilds in src/db/builds.ts). Walking the primary
-- key backwards stepped over every check build newer than the page: a custom type's checks keep
-- a few builds per resource (pruneCheckBuilds), so a thousand pipelines' resources keep tens of
-- thousands, all newer than a quiet day's job builds. This index holds only the listed builds,
-- in the page's order (issue 23).
CREATE INDEX builds_listed_idx ON builds (id DESC) WHERE resource_id IS NULL AND resource_type_id IS NULL;
