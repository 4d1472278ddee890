-- The table push_to_postgres.c writes into (through the pipeline of
-- push_to_postgres.toml) and then checks. `run` tells one run's records from
-- an earlier run's.
CREATE TABLE IF NOT EXISTS embed_events (
  run     text   NOT NULL,
  id      bigint NOT NULL,
  payload text   NOT NULL
);
