-- Adopting a build's inputs answers them (issue 23): the planner read them back in a second
-- statement after the adoption. jetway_build_inputs is that read (buildInputs in
-- src/db/builds.ts calls it: one copy of the SQL); jetway_adopt_inputs runs 0022's
-- jetway_adopt_next_inputs and, when the inputs were determined, answers the build's inputs as
-- JSON (ordered by name) in the same round trip. jetway_adopt_next_inputs stays as it is, for
-- web nodes of the previous version during a rolling update.
CREATE FUNCTION jetway_build_inputs(p_build_id integer)
RETURNS TABLE (name text, resource_id integer, resource_name text, version_digest text, version jsonb, first_occurrence boolean)
LANGUAGE sql STABLE AS $$
  SELECT i.name, i.resource_id, r.name, i.version_digest, v.version, i.first_occurrence
    FROM build_resource_config_version_inputs i JOIN resources r ON r.id = i.resource_id
    LEFT JOIN resource_config_versions v ON v.resource_config_scope_id = r.resource_config_scope_id
                                        AND i.version_digest IN (v.version_sha256, v.version_md5)
   WHERE i.build_id = p_build_id ORDER BY i.name
$$;

CREATE FUNCTION jetway_adopt_inputs(p_build_id integer, p_job_id integer, p_unavailable text)
RETURNS TABLE (determined boolean, unavailable_input text, inputs jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  adopted record;
BEGIN
  SELECT a.determined, a.unavailable_input INTO adopted FROM jetway_adopt_next_inputs(p_build_id, p_job_id, p_unavailable) a;
  IF adopted.determined IS NOT TRUE THEN
    RETURN QUERY SELECT false, adopted.unavailable_input, NULL::jsonb;
    RETURN;
  END IF;
  RETURN QUERY SELECT true, NULL::text,
    (SELECT coalesce(jsonb_agg(to_jsonb(bi) ORDER BY bi.name), '[]'::jsonb) FROM jetway_build_inputs(p_build_id) bi);
END
$$;
