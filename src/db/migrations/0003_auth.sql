-- Bearer tokens issued by the API's token endpoint (src/api/auth.ts). Only the sha256 of a
-- token is stored, so a leaked table does not leak usable tokens.
CREATE TABLE access_tokens (
  token_sha256 text PRIMARY KEY,
  username     text NOT NULL,
  -- the teams the user belonged to when the token was issued
  teams        text[] NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at);
