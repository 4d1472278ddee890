-- Validates a random_routes point: {"seq","user_id","ts","lat","lon"}.
-- Passes valid records unchanged; rejects the others with a reason naming
-- the field, so they land in the sink's rejects instead of failing the table.

-- How far in the future a timestamp may lie. random_routes without a rate
-- spaces records 1 ms apart from "now", so a long run reaches ahead of the clock.
local MAX_SKEW_SECONDS = 3600

-- Locals: a global lookup goes through the script's environment first.
local type, tostring, math_type, format, now = type, tostring, math.type, string.format, sluice.now

-- The clock is read only when a timestamp lies beyond the last horizon seen.
local horizon = now() + MAX_SKEW_SECONDS

function transform(r, meta)
  local lat, lon, user, ts = r.lat, r.lon, r.user_id, r.ts
  if type(lat) ~= "number" or lat < -90 or lat > 90 then
    return nil, "lat out of range: " .. tostring(lat)
  end
  if type(lon) ~= "number" or lon < -180 or lon > 180 then
    return nil, "lon out of range: " .. tostring(lon)
  end
  if math_type(user) ~= "integer" or user <= 0 then
    return nil, "user_id must be a positive integer, got " .. (user == nil and "none" or tostring(user))
  end
  if type(ts) ~= "number" then
    return nil, "ts must be epoch seconds, got " .. tostring(ts)
  end
  if ts > horizon then
    horizon = now() + MAX_SKEW_SECONDS
    if ts > horizon then
      return nil, format("ts %.3f is more than %d s in the future", ts, MAX_SKEW_SECONDS)
    end
  end
  return r
end
