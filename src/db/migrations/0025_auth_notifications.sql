-- Web nodes keep what authentication reads at every request (a token's owner and lifetime, the
-- teams and their auth) in memory (src/api/lookup-cache.ts), as Concourse's claims and teams
-- cachers do (atc/api/accessor). These triggers tell every node when that changes, whoever
-- changed it: a team set, renamed or destroyed (channel jetway_teams), a token deleted by a
-- logout or as expired, or changed (channel jetway_access_tokens, its sha256; '*' for a TRUNCATE).
-- A NOTIFY is delivered only after the transaction commits.
-- A statement changed the table: NOTIFY the channel the trigger names (its argument); 0026 uses it too.
CREATE FUNCTION jetway_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], '');
  RETURN NULL;
END
$$;
CREATE TRIGGER teams_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON teams
  FOR EACH STATEMENT EXECUTE FUNCTION jetway_notify_changed('jetway_teams');

CREATE FUNCTION jetway_notify_access_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('jetway_access_tokens', '*');
  ELSE
    PERFORM pg_notify('jetway_access_tokens', OLD.token_sha256);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER access_token_changed AFTER UPDATE OR DELETE ON access_tokens
  FOR EACH ROW EXECUTE FUNCTION jetway_notify_access_token_changed();
CREATE TRIGGER access_tokens_truncated AFTER TRUNCATE ON access_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION jetway_notify_access_token_changed();
