-- Example of enrichment: adds fields computed from others, and keys the
-- record by user so a user's points stay in one partition.
--   day         the UTC date of ts ("2023-11-14")
--   hemisphere  "N" or "S" from lat

function transform(r, meta)
  if type(r.ts) == "number" then
    r.day = os.date("!%Y-%m-%d", math.floor(r.ts))
  end
  if type(r.lat) == "number" then
    r.hemisphere = r.lat >= 0 and "N" or "S"
  end
  if r.user_id ~= nil then meta.set_key(r.user_id) end
  meta.set_header("enriched-by", "enrich_route.lua")
  return r
end
