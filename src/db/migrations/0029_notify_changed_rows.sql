-- 0025's and 0026's statement-level triggers NOTIFY for every statement on teams or pipelines,
-- also one that changed no row: finishBuild's "archive the child pipelines of older builds"
-- (src/db/builds.ts) runs at every successful build and almost never matches one, so every web
-- node forgot every kept pipeline (src/api/lookup-cache.ts) at every successful build.
-- Row-level now: a notification only when a row was inserted, updated or deleted (Postgres folds a
-- transaction's identical notifications into one, so many rows still make one); TRUNCATE has no
-- rows and keeps a statement-level trigger.
DROP TRIGGER teams_changed ON teams;
CREATE TRIGGER teams_changed AFTER INSERT OR UPDATE OR DELETE ON teams
  FOR EACH ROW EXECUTE FUNCTION jetway_notify_changed('jetway_teams');
CREATE TRIGGER teams_truncated AFTER TRUNCATE ON teams
  FOR EACH STATEMENT EXECUTE FUNCTION jetway_notify_changed('jetway_teams');

DROP TRIGGER pipelines_changed ON pipelines;
CREATE TRIGGER pipelines_changed AFTER INSERT OR UPDATE OR DELETE ON pipelines
  FOR EACH ROW EXECUTE FUNCTION jetway_notify_changed('jetway_pipelines');
CREATE TRIGGER pipelines_truncated AFTER TRUNCATE ON pipelines
  FOR EACH STATEMENT EXECUTE FUNCTION jetway_notify_changed('jetway_pipelines');
