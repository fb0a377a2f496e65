-- AlienVault OTX (Open Threat Exchange): in how many of its community's pulses an IP, domain, URL
-- or file hash appears.
-- https://otx.alienvault.com/api
--
-- Set OTX_API_KEY, or integrations.otx.api_key in the configuration file (your OTX key: Settings,
-- API Integration). No quota could be found in OTX's documentation: none is set.

--- Pulses from which an indicator is malicious here; fewer make it suspicious. Anyone can publish
--- a pulse, and a pulse can be wrong (popular services turn up in many): one is not enough.
local MALICIOUS_PULSES = 5

--- `text` fit for a path: what cannot stand in one (`?`, `#`, `%`, spaces, non-ASCII)
--- percent-encoded, the rest (`/` and `:` included) as it is, as OTX's own SDK sends a URL
--- (it sends it raw; OTX's page does not say how to encode it: not confirmed).
local function in_path(text)
  return (text:gsub("[^%w%-%._~!%$&'%(%)%*%+,;=:@/]", function(c) return ("%%%02X"):format(c:byte()) end))
end

--- GET an indicator's general section (`type` is OTX's: IPv4, IPv6, domain, url, file).
local function ask(config, type_, value)
  local response = http.get(("%s/indicators/%s/%s/general"):format(config.base_url, type_, in_path(value)),
                            { headers = { ["X-OTX-API-KEY"] = config.api_key, Accept = "application/json" },
                              timeout = 20 })
  if response.status == 404 then return { score = "unknown", reason = "not in OTX" } end
  if response.status == 401 or response.status == 403 then
    error(("OTX refused the API key (%d): check api_key"):format(response.status), 0)
  end
  if response.status == 400 then return { score = "unknown", reason = "not an indicator OTX checks" } end
  if response.status == 429 then error("OTX is limiting requests (429)", 0) end
  if response.status ~= 200 then error(("OTX answered %d"):format(response.status), 0) end
  local ok, answer = pcall(json.decode, response.body)
  local pulses = ok and type(answer) == "table" and type(answer.pulse_info) == "table" and answer.pulse_info.count
  if math.type(pulses) ~= "integer" then error("OTX answered 200 without pulse_info.count", 0) end
  if pulses == 0 then return { score = "unknown", reason = "in no OTX pulse" } end
  local reason = pulses == 1 and "in 1 pulse" or ("in %d pulses"):format(pulses)
  return { score = pulses >= MALICIOUS_PULSES and "malicious" or "suspicious", reason = reason }
end

return integration {
  name = "OTX",
  reliability = "C",
  config = {
    base_url = "https://otx.alienvault.com/api/v1",
    api_key = { secret = true, env = "OTX_API_KEY", required = true },
  },
  reputation = {
    ip = function(ip, config) return ask(config, ip:find(":", 1, true) and "IPv6" or "IPv4", ip) end,
    domain = function(domain, config) return ask(config, "domain", domain) end,
    url = function(url, config) return ask(config, "url", url) end,
    file = function(hash, config) return ask(config, "file", hash) end,
  },
}
