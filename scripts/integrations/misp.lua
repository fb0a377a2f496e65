-- MISP: the events of your MISP instance that hold the indicator as an attribute.
-- https://www.misp-project.org/openapi/#tag/Attributes/operation/restSearchAttributes
--
-- Set MISP_URL and MISP_API_KEY, or integrations.misp.base_url and integrations.misp.api_key in
-- the configuration file (an automation key: My Profile, Auth keys). MISP runs where you run it:
-- there is no public default, and no quota.
--
-- An attribute flagged for IDS (`to_ids`) makes the indicator malicious; attributes that are not
-- (context, links, false-positive-prone values) make it suspicious.

--- How many events the reason names before "and N more".
local NAMED_EVENTS = 3

local function search(value, config)
  local response = http.post(config.base_url:gsub("/+$", "") .. "/attributes/restSearch",
                             json.encode({ value = value, returnFormat = "json" }),
                             { headers = { Authorization = config.api_key, Accept = "application/json",
                                           ["Content-Type"] = "application/json" },
                               timeout = 30 })
  if response.status == 401 or response.status == 403 then
    error(("MISP refused the API key (%d): check api_key"):format(response.status), 0)
  end
  if response.status == 429 then error("MISP is limiting requests (429)", 0) end
  if response.status ~= 200 then error(("MISP answered %d"):format(response.status), 0) end
  local ok, answer = pcall(json.decode, response.body)
  local attributes = ok and type(answer) == "table" and type(answer.response) == "table" and answer.response.Attribute
  if type(attributes) ~= "table" then error("MISP answered 200 without response.Attribute", 0) end
  if #attributes == 0 then return { score = "unknown", reason = "not in MISP" } end

  local for_ids, events, seen = false, {}, {}
  for _, attribute in ipairs(attributes) do
    if type(attribute) == "table" then
      for_ids = for_ids or attribute.to_ids == true
      local event = type(attribute.Event) == "table" and attribute.Event or {}
      local id = event.id or attribute.event_id
      id = (type(id) == "string" or type(id) == "number") and tostring(id) or "?"
      if not seen[id] then
        seen[id] = true
        events[#events + 1] = type(event.info) == "string" and ('event %s "%s"'):format(id, event.info) or "event " .. id
      end
    end
  end
  local named = table.concat(events, ", ", 1, math.min(#events, NAMED_EVENTS))
    .. (#events > NAMED_EVENTS and (" and %d more"):format(#events - NAMED_EVENTS) or "")
  if for_ids then return { score = "malicious", reason = "for IDS in " .. named } end
  return { score = "suspicious", reason = "in " .. named .. ", not for IDS" }
end

return integration {
  name = "MISP",
  reliability = "B",
  config = {
    base_url = { env = "MISP_URL", required = true },
    api_key = { secret = true, env = "MISP_API_KEY", required = true },
  },
  reputation = { ip = search, domain = search, url = search, file = search, email = search },
}
