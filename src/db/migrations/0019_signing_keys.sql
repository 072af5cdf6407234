-- The keys the idtoken var source signs builds' JWTs with (issue 21; Concourse's signing_keys,
-- atc/creds/idtoken): every web node signs with the newest of a kind and serves the recent ones'
-- public halves at /.well-known/jwks.json. The private JWK never leaves the web node.
CREATE TABLE signing_keys (
  kid        text PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('RSA', 'EC')),
  jwk        jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signing_keys_kind_created_idx ON signing_keys (kind, created_at DESC);
