-- The build starter's two transactions on the way from a trigger to its first pod, one round
-- trip each (issue 23): adopting a job's next inputs (nine statements: BEGIN, the job's row lock,
-- the next inputs, each one's check, two deletes, two inserts, inputs_ready, COMMIT) and
-- starting a build (five: BEGIN, the status, its event, the job's build pointers, COMMIT). The
-- functions do what src/db/builds.ts did, in the same order and under the same locks; each
-- statement in plpgsql sees the ones before it.

-- The job's latest completed, next and transition builds (refreshJobBuildPointers).
CREATE FUNCTION jetway_refresh_job_build_pointers(p_job_id integer) RETURNS void
LANGUAGE sql AS $$
  WITH completed AS (
    SELECT id, status, coalesce(rerun_of, id) AS k FROM builds WHERE job_id = p_job_id AND completed AND status <> 'pending'
  ), latest AS (
    SELECT id, status, k FROM completed ORDER BY k DESC, id DESC LIMIT 1
  ), last_other AS (
    SELECT c.k, c.id FROM completed c, latest l
     WHERE c.status <> l.status AND (c.k, c.id) < (l.k, l.id) ORDER BY c.k DESC, c.id DESC LIMIT 1
  ), transition AS (
    SELECT c.id FROM completed c
     WHERE NOT EXISTS (SELECT 1 FROM last_other)
        OR EXISTS (SELECT 1 FROM last_other o WHERE (c.k, c.id) > (o.k, o.id))
     ORDER BY c.k ASC, c.id ASC LIMIT 1
  )
  UPDATE jobs SET
    latest_completed_build_id = (SELECT id FROM latest),
    next_build_id = (SELECT id FROM builds WHERE job_id = p_job_id AND status IN ('pending', 'started')
                      ORDER BY coalesce(rerun_of, id) ASC, id ASC LIMIT 1),
    transition_build_id = (SELECT id FROM transition)
  WHERE id = p_job_id
$$;

-- AdoptInputsAndPipes: under the job's row lock, requires inputs_determined; the first input
-- (by name) without a version, or whose version left its resource's current scope, stops it (the
-- latter stores format(p_unavailable, input name) as its resolve_error and undetermines the job);
-- else the build takes the job's next inputs and pipes and is inputs_ready.
CREATE FUNCTION jetway_adopt_next_inputs(p_build_id integer, p_job_id integer, p_unavailable text)
RETURNS TABLE (determined boolean, unavailable_input text)
LANGUAGE plpgsql AS $$
DECLARE
  was_determined boolean;
  input record;
BEGIN
  SELECT j.inputs_determined INTO was_determined FROM jobs j WHERE j.id = p_job_id FOR UPDATE;
  IF was_determined IS NOT TRUE THEN
    RETURN QUERY SELECT false, NULL::text;
    RETURN;
  END IF;
  FOR input IN
    SELECT n.input_name, n.resource_id, n.version_digest, n.resolve_error FROM next_build_inputs n
     WHERE n.job_id = p_job_id ORDER BY n.input_name
  LOOP
    IF input.resolve_error IS NOT NULL OR input.resource_id IS NULL OR input.version_digest IS NULL THEN
      RETURN QUERY SELECT false, NULL::text;
      RETURN;
    END IF;
    IF NOT EXISTS (
      SELECT 1 FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id
       WHERE r.id = input.resource_id AND input.version_digest IN (v.version_sha256, v.version_md5)
    ) THEN
      UPDATE next_build_inputs SET resolve_error = format(p_unavailable, input.input_name)
       WHERE job_id = p_job_id AND input_name = input.input_name;
      UPDATE jobs SET inputs_determined = false WHERE id = p_job_id;
      RETURN QUERY SELECT false, input.input_name::text;
      RETURN;
    END IF;
  END LOOP;
  DELETE FROM build_resource_config_version_inputs WHERE build_id = p_build_id;
  DELETE FROM build_pipes WHERE to_build_id = p_build_id;
  INSERT INTO build_resource_config_version_inputs (build_id, resource_id, version_digest, name, first_occurrence)
    SELECT p_build_id, n.resource_id, n.version_digest, n.input_name, n.first_occurrence FROM next_build_inputs n WHERE n.job_id = p_job_id;
  INSERT INTO build_pipes (from_build_id, to_build_id)
    SELECT p.from_build_id, p_build_id FROM next_build_pipes p WHERE p.to_job_id = p_job_id
    ON CONFLICT DO NOTHING;
  UPDATE builds SET inputs_ready = true WHERE id = p_build_id;
  RETURN QUERY SELECT true, NULL::text;
END
$$;

-- build.Start(plan): pending -> started unless aborted (or no longer pending), the plan and the
-- public plan saved, the status event appended (p_events, as jetway_append_build_events takes
-- them) and the job's build pointers refreshed. Returns whether it started.
CREATE FUNCTION jetway_start_build(p_build_id integer, p_plan jsonb, p_public_plan jsonb, p_lock_class integer, p_events jsonb)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  build_job integer;
BEGIN
  UPDATE builds SET status = 'started', start_time = now(), plan = p_plan, public_plan = p_public_plan, schema = 'jetway.v1'
   WHERE id = p_build_id AND status = 'pending' AND NOT aborted
  RETURNING job_id INTO build_job;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM jetway_append_build_events(p_build_id, p_lock_class, p_events);
  IF build_job IS NOT NULL THEN
    PERFORM jetway_refresh_job_build_pointers(build_job);
  END IF;
  RETURN true;
END
$$;

-- A manual trigger (createManualBuild: seven statements, BEGIN to COMMIT): under the job's row
-- lock, refused ('not-found', 'manual-trigger-disabled', 'archived': nothing written) or a pending
-- manually triggered build numbered from the job's sequence, the job's build pointers refreshed
-- and its scheduling requested (the wall clock, as requestJobSchedule).
CREATE FUNCTION jetway_create_manual_build(p_job_id integer, p_created_by text, p_comment text)
RETURNS TABLE (build_id integer, job_name text, refused text)
LANGUAGE plpgsql AS $$
DECLARE
  v_job record;
  v_number integer;
  v_build integer;
BEGIN
  SELECT j.name, j.pipeline_id, p.team_id, j.disable_manual_trigger, p.archived INTO v_job
    FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id WHERE j.id = p_job_id FOR UPDATE OF j;
  IF NOT FOUND THEN
    RETURN QUERY SELECT NULL::integer, NULL::text, 'not-found'::text;
    RETURN;
  END IF;
  IF v_job.disable_manual_trigger THEN
    RETURN QUERY SELECT NULL::integer, v_job.name::text, 'manual-trigger-disabled'::text;
    RETURN;
  END IF;
  IF v_job.archived THEN
    RETURN QUERY SELECT NULL::integer, v_job.name::text, 'archived'::text;
    RETURN;
  END IF;
  UPDATE jobs SET build_number_seq = build_number_seq + 1 WHERE jobs.id = p_job_id RETURNING build_number_seq INTO v_number;
  INSERT INTO builds (name, job_id, pipeline_id, team_id, status, manually_triggered, created_by, comment)
    VALUES (v_number::text, p_job_id, v_job.pipeline_id, v_job.team_id, 'pending', true, p_created_by, p_comment)
    RETURNING builds.id INTO v_build;
  PERFORM jetway_refresh_job_build_pointers(p_job_id);
  UPDATE jobs SET schedule_requested = clock_timestamp() WHERE jobs.id = p_job_id;
  RETURN QUERY SELECT v_build, v_job.name::text, NULL::text;
END
$$;
