-- VirusTotal v3: the engines' verdicts on IPs, domains, URLs and files.
-- https://docs.virustotal.com/reference/overview
--
-- Set VIRUSTOTAL_API_KEY, or integrations.virustotal.api_key in the configuration file. The
-- public API allows 4 requests a minute and 500 a day: lookups over that wait their turn.

--- base64url without padding: how VirusTotal names a URL (its "URL identifier").
local function url_id(url)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local out = {}
  for i = 1, #url, 3 do
    local a, b, c = url:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = b == nil and 2 or c == nil and 3 or 4
    for k = 1, chars do
      local index = (n >> (6 * (4 - k))) & 63
      out[#out + 1] = alphabet:sub(index + 1, index + 1)
    end
  end
  return table.concat(out)
end

--- Engines that call it malicious before it is "malicious" here; fewer make it suspicious.
local MALICIOUS_ENGINES = 3

local function verdict(stats)
  local bad, suspicious = stats.malicious or 0, stats.suspicious or 0
  local total = bad + suspicious + (stats.harmless or 0) + (stats.undetected or 0)
  local reason = ("%d/%d engines"):format(bad, total)
  if bad >= MALICIOUS_ENGINES then return { score = "malicious", reason = reason } end
  if bad > 0 or suspicious > 0 then
    return { score = "suspicious", reason = reason .. (suspicious > 0 and (", %d suspicious"):format(suspicious) or "") }
  end
  if (stats.harmless or 0) > 0 then return { score = "benign", reason = reason } end
  return { score = "unknown", reason = "no engine has an opinion" }
end

--- GET an object; its analysis stats, or nil when VirusTotal does not know it.
local function lookup(config, path)
  local response = http.get(config.base_url .. path, { headers = { ["x-apikey"] = config.api_key }, timeout = 20 })
  if response.status == 404 then return nil end
  if response.status == 401 or response.status == 403 then
    error(("VirusTotal refused the API key (%d): check api_key"):format(response.status), 0)
  end
  if response.status == 429 then error("VirusTotal's quota is used up (429)", 0) end
  if response.status ~= 200 then error(("VirusTotal answered %d"):format(response.status), 0) end
  local ok, answer = pcall(json.decode, response.body)
  local attributes = ok and type(answer) == "table" and type(answer.data) == "table" and answer.data.attributes
  if type(attributes) ~= "table" or type(attributes.last_analysis_stats) ~= "table" then
    error("VirusTotal answered 200 without data.attributes.last_analysis_stats", 0)
  end
  return attributes.last_analysis_stats
end

local function ask(config, path)
  local stats = lookup(config, path)
  if stats == nil then return { score = "unknown", reason = "not in VirusTotal" } end
  return verdict(stats)
end

return integration {
  name = "VirusTotal",
  reliability = "B",
  config = {
    base_url = "https://www.virustotal.com/api/v3",
    api_key = { secret = true, env = "VIRUSTOTAL_API_KEY", required = true },
  },
  rate = { per_minute = 4, per_day = 500 },
  reputation = {
    ip = function(ip, config) return ask(config, "/ip_addresses/" .. ip) end,
    domain = function(domain, config) return ask(config, "/domains/" .. domain) end,
    url = function(url, config) return ask(config, "/urls/" .. url_id(url)) end,
    file = function(hash, config) return ask(config, "/files/" .. hash) end,
  },
}
