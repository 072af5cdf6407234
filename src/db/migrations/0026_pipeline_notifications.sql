-- Web nodes keep the pipelines that request paths name (src/api/lookup-cache.ts): this trigger
-- tells every node when any pipeline changes, whoever changed it (set, paused, exposed, ordered,
-- renamed, archived, destroyed; a set_pipeline step; SQL), as 0025's do for teams and tokens.
-- Statement-level: one NOTIFY per statement however many rows it touched (and Postgres folds
-- identical notifications of one transaction into one).
CREATE TRIGGER pipelines_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pipelines
  FOR EACH STATEMENT EXECUTE FUNCTION jetway_notify_changed('jetway_pipelines');
