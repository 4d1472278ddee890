-- Example of a split: a track {"user_id", "points": [{"lat","lon","ts"}, ...]}
-- becomes one route record per point, in order. An empty track is dropped.

function transform(r, meta)
  if type(r.points) ~= "table" then
    return nil, "points must be an array"
  end
  local out = {}
  for i, p in ipairs(r.points) do
    out[i] = {user_id = r.user_id, seq = i - 1, ts = p.ts, lat = p.lat, lon = p.lon}
  end
  if #out == 0 then return nil end
  return sluice.many(out)
end
