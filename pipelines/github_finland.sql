-- Repositories with releases of the GitHub users found by location
-- (pipelines/github_finland.toml, transforms/github_finland.lua).
-- One row per (user, repository). The sink upserts on that key, so a record
-- the source sends again (at-least-once, after a crash) rewrites the same row.
CREATE TABLE IF NOT EXISTS github_releases (
  user_login          text        NOT NULL,   -- GitHub login of the owner
  repository          text        NOT NULL,   -- repository name, without the owner
  user_url            text,                   -- the user's html_url
  repository_url      text,                   -- the repository's html_url
  release_count       integer     NOT NULL CHECK (release_count > 0),
  latest_release_tag  text        NOT NULL,   -- tag_name of the most recently published release
  latest_release_at   timestamptz NOT NULL,   -- its published_at
  fetched_at          timestamptz NOT NULL,   -- when the source read the releases
  PRIMARY KEY (user_login, repository)
);

-- One row per user, with their repositories that have releases as a JSON
-- array, newest release first. An API layer such as PostgREST serves it as is
-- (GET /github_users_with_releases?user_login=eq.someone); grant SELECT on
-- this view only, not on the table (the view reads it with its owner's rights).
CREATE OR REPLACE VIEW github_users_with_releases AS
SELECT user_login,
       min(user_url)                       AS user_url,
       count(*)::integer                   AS repository_count,
       sum(release_count)::integer         AS release_count,
       max(latest_release_at)              AS latest_release_at,
       jsonb_agg(jsonb_build_object(
                   'repository',         repository,
                   'url',                repository_url,
                   'release_count',      release_count,
                   'latest_release_tag', latest_release_tag,
                   'latest_release_at',  latest_release_at)
                 ORDER BY latest_release_at DESC, repository) AS repositories
FROM github_releases
GROUP BY user_login;
