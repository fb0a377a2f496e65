-- AbuseIPDB v2: how confident its reporters are that an IP is abusive.
-- https://docs.abuseipdb.com/#check-endpoint
--
-- Set ABUSEIPDB_API_KEY, or integrations.abuseipdb.api_key in the configuration file. The free
-- plan allows 1,000 checks a day.

--- Confidence (0 to 100) from which an address is malicious, and suspicious.
local MALICIOUS, SUSPICIOUS = 75, 25

return integration {
  name = "AbuseIPDB",
  reliability = "C",
  config = {
    base_url = "https://api.abuseipdb.com/api/v2",
    api_key = { secret = true, env = "ABUSEIPDB_API_KEY", required = true },
    max_age_days = "90",
  },
  rate = { per_day = 1000 },
  reputation = {
    ip = function(ip, config)
      local response = http.get(("%s/check?ipAddress=%s&maxAgeInDays=%s"):format(config.base_url, ip, config.max_age_days),
                                { headers = { Key = config.api_key, Accept = "application/json" }, timeout = 20 })
      if response.status == 401 or response.status == 403 then
        error(("AbuseIPDB refused the API key (%d): check api_key"):format(response.status), 0)
      end
      if response.status == 422 then return { score = "unknown", reason = "not an address AbuseIPDB checks" } end
      if response.status == 429 then error("AbuseIPDB's daily quota is used up (429)", 0) end
      if response.status ~= 200 then error(("AbuseIPDB answered %d"):format(response.status), 0) end
      local ok, answer = pcall(json.decode, response.body)
      local data = ok and type(answer) == "table" and answer.data
      if type(data) ~= "table" or math.type(data.abuseConfidenceScore) ~= "integer" then
        error("AbuseIPDB answered 200 without data.abuseConfidenceScore", 0)
      end
      local confidence, reports = data.abuseConfidenceScore, data.totalReports or 0
      local reason = ("confidence %d%%, %d report%s"):format(confidence, reports, reports == 1 and "" or "s")
      if data.isWhitelisted == true then return { score = "benign", reason = "whitelisted by AbuseIPDB" } end
      if confidence >= MALICIOUS then return { score = "malicious", reason = reason } end
      if confidence >= SUSPICIOUS then return { score = "suspicious", reason = reason } end
      if reports == 0 then return { score = "unknown", reason = "no reports" } end
      return { score = "benign", reason = reason }
    end,
  },
}
