-- URLhaus (abuse.ch): URLs that distribute malware, the hosts that serve them, and the payloads
-- fetched from them.
-- https://urlhaus-api.abuse.ch/
--
-- Set URLHAUS_AUTH_KEY, or integrations.urlhaus.auth_key in the configuration file (an abuse.ch
-- Auth-Key, from https://auth.abuse.ch/). No quota could be found in URLhaus's documentation: none
-- is set.
--
-- A listed URL that is online is malicious; offline, or of unknown status, it is suspicious: it
-- served malware, and its host may again. A host is malicious while one of the URLs URLhaus
-- returns with it is online, else suspicious. A payload is malicious when URLhaus names its
-- malware family (`signature`), else suspicious: it came from a malware URL, but not every file
-- there is malware.

--- `value` for an application/x-www-form-urlencoded body: all but letters, digits and -._~
--- percent-encoded.
local function form(value)
  return (value:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

--- A string field, or nil (absent, or JSON null).
local function text(value)
  return type(value) == "string" and value ~= "" and value or nil
end

--- POST one field to an endpoint; its query_status ("ok", "no_results"...) and the answer.
local function query(config, endpoint, field, value)
  local response = http.post(config.base_url .. endpoint, field .. "=" .. form(value), {
    headers = { ["Auth-Key"] = config.auth_key, ["Content-Type"] = "application/x-www-form-urlencoded",
                Accept = "application/json" },
    timeout = 20 })
  local ok, answer = pcall(json.decode, response.body)
  local status = ok and type(answer) == "table" and text(answer.query_status)
  if response.status == 401 or response.status == 403 or status == "unknown_auth_key" then
    error(("URLhaus refused the Auth-Key (%d): check auth_key"):format(response.status), 0)
  end
  if response.status == 429 then error("URLhaus is limiting requests (429)", 0) end
  if response.status ~= 200 then error(("URLhaus answered %d"):format(response.status), 0) end
  if not status then error("URLhaus answered 200 without query_status", 0) end
  return status, answer
end

--- The verdict when there is no entry: unknown for "no_results" and for what URLhaus cannot
--- look up ("invalid_url", "invalid_host", "invalid_md5", "invalid_sha256"); other statuses fail.
local function unlisted(status)
  if status == "no_results" then return { score = "unknown", reason = "not in URLhaus" } end
  if status:match("^invalid_") then return { score = "unknown", reason = "URLhaus cannot look it up: " .. status } end
  error("URLhaus answered query_status " .. status, 0)
end

local function url(value, config)
  local status, entry = query(config, "/url/", "url", value)
  if status ~= "ok" then return unlisted(status) end
  local online = text(entry.url_status) or "unknown"
  local tags = {}
  for _, tag in ipairs(type(entry.tags) == "table" and entry.tags or {}) do
    if type(tag) == "string" then tags[#tags + 1] = tag end
  end
  local reason = ("%s, %s"):format(text(entry.threat) or "listed", online)
    .. (#tags > 0 and " (" .. table.concat(tags, ", ") .. ")" or "")
  return { score = online == "online" and "malicious" or "suspicious", reason = reason }
end

local function host(value, config)
  local status, entry = query(config, "/host/", "host", value)
  if status ~= "ok" then return unlisted(status) end
  local urls = type(entry.urls) == "table" and entry.urls or {}
  local online = 0
  for _, listed in ipairs(urls) do
    if type(listed) == "table" and listed.url_status == "online" then online = online + 1 end
  end
  local count = tonumber(entry.url_count) or #urls
  local reason = ("%d malware URL%s, %d online"):format(count, count == 1 and "" or "s", online)
  return { score = online > 0 and "malicious" or "suspicious", reason = reason }
end

local function file(hash, config)
  local field = (#hash == 32 and "md5_hash") or (#hash == 64 and "sha256_hash") or nil
  if field == nil then return { score = "unknown", reason = "URLhaus looks up MD5 and SHA-256 hashes only" } end
  local status, entry = query(config, "/payload/", field, hash:lower())
  if status ~= "ok" then return unlisted(status) end
  local family, count = text(entry.signature), tonumber(entry.url_count) or 0
  local reason = ("payload%s from %d URL%s"):format(family and " " .. family or "", count, count == 1 and "" or "s")
  return { score = family and "malicious" or "suspicious", reason = reason }
end

return integration {
  name = "URLhaus",
  reliability = "B",
  config = {
    base_url = "https://urlhaus-api.abuse.ch/v1",
    auth_key = { secret = true, env = "URLHAUS_AUTH_KEY", required = true },
  },
  reputation = { ip = host, domain = host, url = url, file = file },
}
