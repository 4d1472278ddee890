-- Shapes an http_checker record into a row of the website_checks table:
-- keeps every field and adds `ok`, true when the site answered with a
-- 2xx/3xx status, without error, and (if a regex was given) it matched.

local null = sluice.null

local function present(v) return v ~= nil and v ~= null end

function transform(r, meta)
  if type(r.url) ~= "string" or r.url == "" then
    return nil, "url missing"
  end
  local status = r.status
  local answered = math.type(status) == "integer" and status >= 200 and status < 400
  local regex_ok = not present(r.regex) or r.regex_matched == true
  r.ok = answered and not present(r.error) and regex_ok
  for _, field in ipairs({"status", "response_ms", "ttfb_ms", "bytes", "regex", "regex_matched",
                          "error", "error_detail", "target"}) do
    if r[field] == nil then r[field] = null end  -- explicit NULL columns, not missing fields
  end
  if r.checked_at == nil then r.checked_at = sluice.now() end
  return r
end
