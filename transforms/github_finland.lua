-- The script of the `lua` source in pipelines/github_finland.toml.
--
-- Finds the GitHub users of a location (search API), lists each user's own
-- public repositories, counts each repository's releases, and emits one
-- record per (user, repository) with at least one release: the count and the
-- tag and date of the latest one. The sink upserts them into github_releases.
--
-- ctx.params:  api_url (e.g. https://api.github.com), location (e.g. finland);
--              optional max_retries (of a 5xx or transport error, default 4)
--              and max_rate_limit_waits (per request, default 20).
-- ctx.secrets: token; sent as "Authorization: Bearer <token>" when not empty.
-- ctx.state:   emitted["login/repo"] = the release count last emitted, so the
--              same (user, repository, count) is not emitted again, neither on
--              a later poll nor after a restart; round.done[login] = true for
--              the users finished in the round under way, so a round cut short
--              by a stop or a crash goes on where it was instead of asking
--              GitHub for everything again.

local MAX_PAGES = 1000        -- per listing: a Link loop must not page forever
local MAX_BACKOFF = 30        -- seconds, the longest wait between 5xx retries
local MAX_RATE_WAIT = 3700    -- seconds; GitHub's reset is at most an hour away
local SECONDARY_WAIT = 60     -- GitHub: wait at least a minute when it gives no time

local function log(level, msg) sluice.log(level, msg) end

-- A value returned instead of data when the pipeline is stopping: every caller
-- passes it up at once, so the poll ends without starting new requests.
local STOPPING = setmetatable({}, {__tostring = function() return "stopping" end})

-- Settings of the poll under way (set by poll from ctx.params).
local api_url, headers, max_retries, max_rate_limit_waits

-- The earliest time (epoch seconds) the next request may be sent: set when a
-- response said the quota is used up, so the next request waits for the reset
-- instead of being refused.
local quota_resets_at = 0

local function url_encode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- The part of a URL after the API base, for log lines.
local function shown(url)
  return url:sub(1, #api_url) == api_url and url:sub(#api_url + 1) or url
end

local function request_headers(token)
  local h = {
    ["Accept"] = "application/vnd.github+json",
    ["X-GitHub-Api-Version"] = "2022-11-28",
    ["User-Agent"] = "sluice-github-finland",  -- GitHub refuses requests without one
  }
  if type(token) == "string" and token ~= "" then h["Authorization"] = "Bearer " .. token end
  return h
end

-- Waits `seconds` (ctx.sleep: a stop ends the wait at once). False when stopping.
local function wait(ctx, seconds, why)
  log("warn", string.format("%s: waiting %.1f s", why, seconds))
  return ctx.sleep(seconds)
end

-- GitHub's rate limits (docs.github.com, "Rate limits for the REST API"): a
-- 403 or 429 with Retry-After (seconds) means wait that long; one with
-- X-RateLimit-Remaining: 0 means wait until X-RateLimit-Reset (epoch seconds);
-- a secondary limit without either means wait at least a minute, longer each
-- time. Returns the seconds to wait and why, or nil when it is no rate limit.
local function rate_limit_wait(r, times_limited)
  if r.status ~= 403 and r.status ~= 429 then return nil end
  local h = r.headers
  local retry_after = tonumber(h["retry-after"])
  if retry_after then
    return math.max(retry_after, 1), "Retry-After " .. h["retry-after"]
  end
  local reset = tonumber(h["x-ratelimit-reset"])
  if h["x-ratelimit-remaining"] == "0" and reset then
    -- One second past the reset: GitHub's clock and ours are not the same.
    local seconds = math.min(math.max(reset - sluice.now() + 1, 1), MAX_RATE_WAIT)
    return seconds, "X-RateLimit-Remaining 0 until " .. os.date("!%H:%M:%SZ", math.floor(reset))
  end
  if r.status == 429 or (r.body or ""):lower():find("rate limit", 1, true) then
    return math.min(SECONDARY_WAIT * 2 ^ (times_limited - 1), MAX_RATE_WAIT), "secondary rate limit"
  end
  return nil  -- a 403 for another reason (a blocked repository, say): not retried
end

-- Notes an exhausted quota from any response, so the next request waits.
local function note_quota(r)
  local reset = tonumber(r.headers["x-ratelimit-reset"])
  if r.headers["x-ratelimit-remaining"] == "0" and reset then quota_resets_at = reset + 1 end
end

-- GET `url` and decode its JSON body, by GitHub's rules: waits out rate limits
-- and retries the same request; retries a 5xx or a transport error with
-- doubling backoff, `max_retries` times. Returns (data, response), or
-- (nil, reason) for an item to skip, or STOPPING.
local function get_json(ctx, url)
  local failures, times_limited = 0, 0
  while true do
    local early = quota_resets_at - sluice.now()
    if early > 0 and not wait(ctx, math.min(early, MAX_RATE_WAIT), "API quota used up before " .. shown(url)) then
      return STOPPING
    end
    local r, err = sluice.http.get(url, {headers = headers})
    if r then note_quota(r) end
    local seconds, why
    if r then seconds, why = rate_limit_wait(r, times_limited + 1) end
    if seconds then
      times_limited = times_limited + 1
      if times_limited > max_rate_limit_waits then
        return nil, string.format("still rate limited after %d waits", max_rate_limit_waits)
      end
      if not wait(ctx, seconds, string.format("rate limited (HTTP %d, %s) on %s, then retrying it",
                                             r.status, why, shown(url))) then
        return STOPPING
      end
      quota_resets_at = 0  -- just waited for it
    elseif r and r.status >= 200 and r.status < 300 then
      local data, bad = sluice.json.decode(r.body)
      if type(data) ~= "table" then return nil, "not a JSON object or array: " .. tostring(bad) end
      return data, r
    elseif r == nil and ctx.stopping() then
      return STOPPING  -- the request was cut short by the stop: not a failure
    elseif r == nil or r.status >= 500 then
      failures = failures + 1
      local what = r and ("HTTP " .. r.status) or err
      if failures > max_retries then
        return nil, string.format("%s, %d times", what, failures)
      end
      local backoff = math.min(2 ^ (failures - 1), MAX_BACKOFF)
      if not wait(ctx, backoff, string.format("%s on %s, retry %d of %d", what, shown(url), failures,
                                              max_retries)) then
        return STOPPING
      end
    else
      return nil, "HTTP " .. r.status  -- 404 (user gone), 451 ...: retrying would not help
    end
  end
end

-- The target of rel="next" in a Link header (RFC 8288), or nil. GitHub's page
-- URLs are opaque (a search page carries its own parameters), so they are
-- followed as given, never built from a page number.
local function next_link(header)
  if type(header) ~= "string" then return nil end
  for target, params in header:gmatch("<([^>]*)>([^<]*)") do
    local rel = params:match('[;%s]rel%s*=%s*"([^"]*)"') or params:match("[;%s]rel%s*=%s*([^;,%s]+)")
    for value in (rel or ""):gmatch("%S+") do
      if value:lower() == "next" then return target end
    end
  end
  return nil
end

-- Whether a URL is under the API base: the token is sent with every request,
-- so a Link to another host is not followed.
local function under_api(url)
  local rest = url:sub(#api_url + 1, #api_url + 1)
  return url:sub(1, #api_url) == api_url and (rest == "" or rest == "/" or rest == "?")
end

-- Calls on_page(data) for each page of a listing, following rel="next".
-- Returns true, or (nil, reason), or STOPPING.
local function each_page(ctx, url, on_page)
  local seen = {}
  for _ = 1, MAX_PAGES do
    seen[url] = true
    local data, r = get_json(ctx, url)
    if data == STOPPING or data == nil then return data, r end
    on_page(data)
    local next_url = next_link(r.headers["link"])
    if next_url == nil then return true end
    if not under_api(next_url) then return nil, "Link rel=next leaves the API: " .. next_url end
    if seen[next_url] then return nil, "Link rel=next loops back to " .. shown(next_url) end
    url = next_url
  end
  return nil, "more than " .. MAX_PAGES .. " pages"
end

-- Every user of the location, each once (a search page may repeat a user when
-- the results shift while paging). Note: GitHub's search gives at most the
-- first 1000 results of a query.
local function find_users(ctx, location)
  local users, seen = {}, {}
  local url = string.format("%s/search/users?q=location:%s&per_page=100", api_url, url_encode(location))
  local ok, reason = each_page(ctx, url, function(page)
    for _, user in ipairs(type(page.items) == "table" and page.items or {}) do
      if type(user.login) == "string" and not seen[user.login] then
        seen[user.login] = true
        users[#users + 1] = user
      end
    end
  end)
  if ok ~= true then return ok, reason end
  return users
end

-- The user's own public repositories (forks included: releases are per repository).
local function list_repositories(ctx, login)
  local repos = {}
  local url = string.format("%s/users/%s/repos?per_page=100&type=owner", api_url, url_encode(login))
  local ok, reason = each_page(ctx, url, function(page)
    for _, repo in ipairs(page) do
      if type(repo) == "table" and type(repo.name) == "string" then repos[#repos + 1] = repo end
    end
  end)
  if ok ~= true then return ok, reason end
  return repos
end

-- {count, latest} of a repository's published releases (drafts have no
-- published_at), counting every page; latest is the last published.
local function summarize_releases(ctx, login, name)
  local summary = {count = 0}
  local url = string.format("%s/repos/%s/%s/releases?per_page=100", api_url, url_encode(login), url_encode(name))
  local ok, reason = each_page(ctx, url, function(page)
    for _, release in ipairs(page) do
      if type(release) == "table" and release.draft ~= true and type(release.published_at) == "string" then
        summary.count = summary.count + 1
        -- ISO 8601 UTC times of one format order as strings do.
        if summary.latest == nil or release.published_at > summary.latest.published_at then
          summary.latest = release
        end
      end
    end
  end)
  if ok ~= true then return ok, reason end
  return summary
end

local function text_or_nil(v) return type(v) == "string" and v or nil end

-- Emits the record unless the same release count was emitted before for this
-- (user, repository). The state changes with the emit, so a state the runner
-- saves never claims a record that was not sent.
local function emit_if_new(ctx, user, repo, summary)
  local id = user.login .. "/" .. repo.name
  if ctx.state.emitted[id] == summary.count then return false end
  ctx.emit({
    user_login = user.login,
    user_url = text_or_nil(user.html_url),
    repository = repo.name,
    repository_url = text_or_nil(repo.html_url),
    release_count = summary.count,
    latest_release_tag = text_or_nil(summary.latest.tag_name) or "",
    latest_release_at = summary.latest.published_at,
    fetched_at = sluice.now(),
  }, user.login)  -- keyed by user: one user's records stay in order
  ctx.state.emitted[id] = summary.count
  return true
end

-- One user: their repositories, each one's releases, the new records.
-- Returns the counts {with_releases, emitted} and, when a repository had to
-- be skipped (the user is then looked at again next round), why; or nil and
-- why when the repositories could not be listed; or STOPPING.
local function process_user(ctx, user)
  local repos, reason = list_repositories(ctx, user.login)
  if repos == STOPPING or repos == nil then return repos, reason end
  local counts, skipped = {with_releases = 0, emitted = 0}, nil
  for _, repo in ipairs(repos) do
    local summary, why = summarize_releases(ctx, user.login, repo.name)
    if summary == STOPPING then return STOPPING end
    if summary == nil then
      log("warn", string.format("skipping %s/%s this round: %s", user.login, repo.name, why))
      skipped = "its repository " .. repo.name .. " was skipped"
    elseif summary.count > 0 then
      counts.with_releases = counts.with_releases + 1
      if emit_if_new(ctx, user, repo, summary) then counts.emitted = counts.emitted + 1 end
    end
  end
  return counts, skipped
end

-- Saves the progress (the runner first waits until Kafka has acknowledged
-- every record emitted so far), when this runner offers it mid-poll.
local function checkpoint(ctx)
  if type(ctx.checkpoint) == "function" then ctx.checkpoint() end
end

function poll(ctx)
  local params = ctx.params
  api_url = tostring(params.api_url or "https://api.github.com"):gsub("/+$", "")
  headers = request_headers(ctx.secrets and ctx.secrets.token)
  max_retries = tonumber(params.max_retries) or 4
  max_rate_limit_waits = tonumber(params.max_rate_limit_waits) or 20
  ctx.state.emitted = ctx.state.emitted or {}
  ctx.state.round = ctx.state.round or {done = {}}
  local done = ctx.state.round.done

  local users, reason = find_users(ctx, params.location or "finland")
  if users == STOPPING then return end
  if users == nil then
    log("error", "user search failed, trying again next poll: " .. reason)
    return
  end
  local totals = {users = 0, with_releases = 0, emitted = 0, skipped = 0}
  for _, user in ipairs(users) do
    if not done[user.login] then
      local counts, skipped = process_user(ctx, user)
      if counts == STOPPING then return end
      totals.users = totals.users + 1
      if counts then
        totals.with_releases = totals.with_releases + counts.with_releases
        totals.emitted = totals.emitted + counts.emitted
      end
      if skipped then
        log("warn", string.format("skipping user %s this round: %s", user.login, skipped))
        totals.skipped = totals.skipped + 1
      else
        done[user.login] = true
        checkpoint(ctx)
      end
    end
  end
  ctx.state.round = nil  -- the round is complete: the next poll starts a new one
  log("info", string.format("round done: %d users found (%d looked at in this poll, %d skipped), "
                            .. "%d repositories with releases, %d new records", #users, totals.users,
                            totals.skipped, totals.with_releases, totals.emitted))
end
