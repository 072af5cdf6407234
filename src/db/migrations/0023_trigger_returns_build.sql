-- A manual trigger answers the build it created in the same round trip (issue 23): the caller
-- read the build back in a second statement. jetway_trigger_manual_build runs 0022's
-- jetway_create_manual_build (under the job's row lock) and returns the new builds row, which the
-- caller joins to its team, job and pipeline in the same statement (rows the statement's snapshot
-- sees: only the build is new). A refusal raises, nothing written: JW404 (no such job), JW409
-- (manual triggering disabled, or the pipeline archived). jetway_create_manual_build stays as it
-- is, for web nodes of the previous version during a rolling update.
CREATE FUNCTION jetway_trigger_manual_build(p_job_id integer, p_created_by text, p_comment text)
RETURNS SETOF builds
LANGUAGE plpgsql AS $$
DECLARE
  created record;
BEGIN
  SELECT c.build_id, c.job_name, c.refused INTO created FROM jetway_create_manual_build(p_job_id, p_created_by, p_comment) c;
  IF created.refused = 'not-found' THEN
    RAISE EXCEPTION 'job % not found', p_job_id USING ERRCODE = 'JW404';
  ELSIF created.refused = 'manual-trigger-disabled' THEN
    RAISE EXCEPTION 'job % has manual triggering disabled', created.job_name USING ERRCODE = 'JW409';
  ELSIF created.refused = 'archived' THEN
    RAISE EXCEPTION 'job % belongs to an archived pipeline', created.job_name USING ERRCODE = 'JW409';
  ELSIF created.refused IS NOT NULL OR created.build_id IS NULL THEN
    RAISE EXCEPTION 'job % was not triggered: %', p_job_id, coalesce(created.refused, 'no build') USING ERRCODE = 'JW409';
  END IF;
  RETURN QUERY SELECT * FROM builds WHERE id = created.build_id;
END
$$;
