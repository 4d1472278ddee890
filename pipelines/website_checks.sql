-- One row per check made by the http_checker source (pipelines/website_checks.toml).
-- Columns are filled from the record's same-named fields; id is left to its default.
CREATE TABLE IF NOT EXISTS website_checks (
  id            bigserial PRIMARY KEY,
  target        text NOT NULL,              -- the target's name (its URL unless named)
  url           text NOT NULL,
  method        text NOT NULL,              -- GET or HEAD
  status        integer,                    -- NULL: no HTTP response
  response_ms   double precision NOT NULL,  -- total time of the check
  ttfb_ms       double precision,           -- time to first byte; NULL without a response
  bytes         bigint NOT NULL,            -- body bytes received
  regex         text,                       -- the pattern searched; NULL when none
  regex_matched boolean,                    -- NULL when no regex
  error         text,                       -- NULL, or a class: timeout, connect_refused, dns, tls, ...
  error_detail  text,                       -- curl's message (or the expected statuses)
  checked_at    timestamptz NOT NULL        -- when the check started
);
CREATE INDEX IF NOT EXISTS website_checks_url_time ON website_checks (url, checked_at);
