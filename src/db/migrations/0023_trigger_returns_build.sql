-- A manual trigger answers the build it created in the same round trip (issue 23): the caller
-- read the build back in a second statement. jetway_trigger_manual_build does what
-- jetway_create_manual_build (0022) does, under the same row lock, and returns the new builds
-- row, which the caller joins to its team, job and pipeline in the same statement (rows the
-- statement's snapshot sees: only the build is new). A refusal raises before anything is
-- written: JW404 (no such job), JW409 (manual triggering disabled, or the pipeline archived).
-- jetway_create_manual_build stays for web nodes of the previous version during a rolling update.
CREATE FUNCTION jetway_trigger_manual_build(p_job_id integer, p_created_by text, p_comment text)
RETURNS SETOF builds
LANGUAGE plpgsql AS $$
DECLARE
  v_job record;
  v_number integer;
  v_build builds;
BEGIN
  SELECT j.name, j.pipeline_id, p.team_id, j.disable_manual_trigger, p.archived INTO v_job
    FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id WHERE j.id = p_job_id FOR UPDATE OF j;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'job % not found', p_job_id USING ERRCODE = 'JW404';
  END IF;
  IF v_job.disable_manual_trigger THEN
    RAISE EXCEPTION 'job % has manual triggering disabled', v_job.name USING ERRCODE = 'JW409';
  END IF;
  IF v_job.archived THEN
    RAISE EXCEPTION 'job % belongs to an archived pipeline', v_job.name USING ERRCODE = 'JW409';
  END IF;
  UPDATE jobs SET build_number_seq = build_number_seq + 1 WHERE jobs.id = p_job_id RETURNING build_number_seq INTO v_number;
  INSERT INTO builds (name, job_id, pipeline_id, team_id, status, manually_triggered, created_by, comment)
    VALUES (v_number::text, p_job_id, v_job.pipeline_id, v_job.team_id, 'pending', true, p_created_by, p_comment)
    RETURNING * INTO v_build;
  PERFORM jetway_refresh_job_build_pointers(p_job_id);
  UPDATE jobs SET schedule_requested = clock_timestamp() WHERE jobs.id = p_job_id;
  RETURN NEXT v_build;
END
$$;
