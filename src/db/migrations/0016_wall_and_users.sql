-- Concourse's wall message and the users who logged in (issue 21; docs/concourse-compatibility.md).
-- wall: at most one row, the message every user's fly and UI show until it expires (NULL: never).
CREATE TABLE wall (
  message    text NOT NULL,
  expires_at timestamptz
);

-- users: one row per user who logged in, with the time of their latest login (GET /api/v1/users,
-- fly active-users). Written at each successful login by either token endpoint.
CREATE TABLE users (
  username   text NOT NULL,
  connector  text NOT NULL DEFAULT 'local',
  first_login timestamptz NOT NULL DEFAULT now(),
  last_login  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connector, username)
);
CREATE INDEX users_last_login_idx ON users (last_login);
