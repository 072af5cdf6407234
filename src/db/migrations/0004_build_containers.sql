-- How many containers (pods on Kubernetes) each build created, and for what:
-- {"step": {"task": 2, "get": 1}, "image": {"check": 1}}. Jetway's claim is that builds spend no
-- pods on images, so every build shows it.
ALTER TABLE builds ADD COLUMN containers_created jsonb NOT NULL DEFAULT '{}'::jsonb;
