-- Appending a batch of build events in one round trip (issue 23): what saveBuildEvent did in six
-- (BEGIN, the build's event lock, a writer-key lookup, the insert, NOTIFY, COMMIT) for one event,
-- the engine's event sink now does for up to a batch of events. The semantics are the same:
-- under the build's transaction-level advisory lock (class 0x6a7701, shared with any older web
-- node still writing one event at a time), event_id is the build's max + 1 (each statement in
-- plpgsql sees what committed before the lock was taken), a writer key already saved returns its
-- event id instead of a second row, and one NOTIFY build_events wakes the streams.
-- p_events: [{"type", "version", "payload", "writer_key"}] in order; returns their event ids.
CREATE FUNCTION jetway_append_build_events(p_build_id integer, p_lock_class integer, p_events jsonb)
RETURNS SETOF integer
LANGUAGE plpgsql AS $$
DECLARE
  next_id integer;
  e jsonb;
  saved integer;
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock_class, p_build_id);
  SELECT COALESCE(max(event_id) + 1, 0) INTO next_id FROM build_events WHERE build_id = p_build_id;
  FOR e IN SELECT value FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(value, n) ORDER BY n LOOP
    saved := NULL;
    IF e->>'writer_key' IS NOT NULL THEN
      SELECT event_id INTO saved FROM build_events WHERE build_id = p_build_id AND writer_key = e->>'writer_key';
    END IF;
    IF saved IS NOT NULL THEN
      RETURN NEXT saved;
    ELSE
      INSERT INTO build_events (build_id, event_id, type, version, payload, writer_key)
        VALUES (p_build_id, next_id, e->>'type', e->>'version', e->'payload', e->>'writer_key');
      RETURN NEXT next_id;
      next_id := next_id + 1;
    END IF;
  END LOOP;
  PERFORM pg_notify('build_events', p_build_id::text);
  RETURN;
END
$$;
