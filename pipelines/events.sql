-- The table of pipelines/events.toml: one row per event, the event itself in
-- `payload`, its type and time extracted for querying.
CREATE TABLE IF NOT EXISTS events (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_type text        NOT NULL CHECK (event_type <> ''),
  event_time timestamptz NOT NULL,
  payload    jsonb       NOT NULL,
  stored_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS events_type_time ON events (event_type, event_time);
