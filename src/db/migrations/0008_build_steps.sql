-- The step journal of builds on a runtime whose processes outlive the web node (issue 17;
-- src/engine/journal.ts, docs/web-nodes.md "Re-attaching builds"): one row per leaf step of a
-- build, written when the step starts and again when it finishes, with its outcome and what it
-- left for the steps after it (artifacts, results, local vars). A web node that takes the build
-- over runs the plan again: finished steps are answered from here, started ones re-attached.
CREATE TABLE build_steps (
  build_id    integer NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  -- the plan id, and '#n' for the n-th later time the plan walk reached the same id
  step_key    text NOT NULL,
  plan_id     text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  -- {"ok": true|false} or {"error": "..."}; null while it runs
  outcome     jsonb,
  -- {"artifacts": [[name, artifact]], "results": [[plan id, value]], "vars": [[name, value]]}
  effects     jsonb,
  PRIMARY KEY (build_id, step_key)
);
