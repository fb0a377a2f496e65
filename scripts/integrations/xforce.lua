-- IBM X-Force Exchange: IBM's risk scores for IPs, URLs and domains, and its malware reports on
-- file hashes.
-- https://api.xforce.ibmcloud.com/doc/
--
-- Set XFORCE_CREDENTIALS, or integrations.xforce.credentials in the configuration file, to the
-- base64 of "KEY:PASSWORD", an API key and its password from X-Force Exchange (Settings, API
-- Access), on one line: `printf %s 'KEY:PASSWORD' | base64 -w0` (GNU; macOS: without -w0). It is
-- sent as HTTP Basic authentication. The free API's quota could not be confirmed from IBM's
-- documentation: none is set.

--- X-Force's risk score runs from 1 (nothing against it) to 10: from 7 it is malicious here, from
--- 4 suspicious, below that benign.
local MALICIOUS, SUSPICIOUS = 7, 4

--- The risk X-Force gives a malware sample, as a score.
local RISK = { high = "malicious", medium = "suspicious", low = "benign" }

--- `text` fit for a path: what cannot stand in one (`?`, `#`, `%`, spaces, non-ASCII)
--- percent-encoded, the rest (`/` and `:` included) as it is, which is how the clients we could
--- find send a URL to /url/ (IBM's page does not say: not confirmed).
local function in_path(text)
  return (text:gsub("[^%w%-%._~!%$&'%(%)%*%+,;=:@/]", function(c) return ("%%%02X"):format(c:byte()) end))
end

--- GET a report: the decoded answer (nil when it is not JSON), or false when X-Force does not
--- know it.
local function lookup(config, path)
  local response = http.get(config.base_url .. path, {
    headers = { Authorization = "Basic " .. config.credentials, Accept = "application/json" }, timeout = 20 })
  if response.status == 404 then return false end
  if response.status == 401 or response.status == 403 then
    error(("X-Force refused the credentials (%d): check credentials"):format(response.status), 0)
  end
  if response.status == 429 then error("X-Force's quota is used up (429)", 0) end
  if response.status ~= 200 then error(("X-Force answered %d"):format(response.status), 0) end
  local ok, answer = pcall(json.decode, response.body)
  return ok and type(answer) == "table" and answer or nil
end

--- A risk score and the categories X-Force files it under (`cats`), as a verdict.
local function scored(score, cats)
  local names = {}
  for name in pairs(type(cats) == "table" and cats or {}) do names[#names + 1] = tostring(name) end
  table.sort(names)
  local reason = ("risk %g of 10"):format(score) .. (#names > 0 and ": " .. table.concat(names, ", ") or "")
  if score >= MALICIOUS then return { score = "malicious", reason = reason } end
  if score >= SUSPICIOUS then return { score = "suspicious", reason = reason } end
  return { score = "benign", reason = reason }
end

local function ip(address, config)
  local report = lookup(config, "/ipr/" .. address)
  if report == false then return { score = "unknown", reason = "not in X-Force" } end
  if report == nil or type(report.score) ~= "number" then error("X-Force answered 200 without score", 0) end
  return scored(report.score, report.cats)
end

--- A URL or a domain: X-Force's URL report takes both.
local function url(value, config)
  local report = lookup(config, "/url/" .. in_path(value))
  if report == false then return { score = "unknown", reason = "not in X-Force" } end
  local result = report and type(report.result) == "table" and report.result
  if not result or type(result.score) ~= "number" then error("X-Force answered 200 without result.score", 0) end
  return scored(result.score, result.cats)
end

local function file(hash, config)
  local report = lookup(config, "/malware/" .. hash)
  if report == false then return { score = "unknown", reason = "not in X-Force" } end
  local malware = report and type(report.malware) == "table" and report.malware
  if not malware or RISK[malware.risk] == nil then error("X-Force answered 200 without malware.risk", 0) end
  local families = {}
  for _, family in ipairs(type(malware.family) == "table" and malware.family or {}) do
    if type(family) == "string" then families[#families + 1] = family end
  end
  return { score = RISK[malware.risk],
           reason = "risk " .. malware.risk .. (#families > 0 and ": " .. table.concat(families, ", ") or "") }
end

return integration {
  name = "X-Force",
  reliability = "B",
  config = {
    base_url = "https://api.xforce.ibmcloud.com",
    credentials = { secret = true, env = "XFORCE_CREDENTIALS", required = true },
  },
  reputation = { ip = ip, domain = url, url = url, file = file },
}
