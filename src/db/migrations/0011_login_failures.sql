-- Failed logins, where every web node sees them (issue 16, finding 5; src/api/login-limit.ts):
-- per (user, address) the failures and the time of the last one; per address and per user a
-- bucket of failures (tokens left at at_ms). Times are the web nodes' clocks, in milliseconds.
-- Rows untouched for a day are deleted (src/db/login-failures.ts).
CREATE TABLE login_failures (
  kind     text NOT NULL CHECK (kind IN ('pair', 'address', 'user')),
  key      text NOT NULL,
  failures integer NOT NULL DEFAULT 0,
  tokens   double precision NOT NULL DEFAULT 0,
  at_ms    bigint NOT NULL,
  PRIMARY KEY (kind, key)
);
CREATE INDEX login_failures_at_idx ON login_failures (at_ms);
