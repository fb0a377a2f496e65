-- Turns an alert of Splunk's Webhook alert action, posted to POST /api/v1/ingest/splunk, into an
-- incident. The saved search names what it found in the fields it emits, so that a Splunk admin
-- starts the shipped playbooks without writing Lua:
--
--   automator_type   the incident's type, which picks the playbook: brute_force, c2_traffic,
--                    malware, phishing or impossible_travel (any other, or none: splunk_alert,
--                    for people)
--   severity         info, low, medium (when absent), high or critical
--   automator_key    what one attack is, for grouping (see below); optional
--   anything else    the incident's fields, under the same names: src_ip, host, user and attempts
--                    for brute_force; host_ip, remote_ip, remote_domain, signature and
--                    confidence for c2_traffic; host, sha256, file_name, action... for malware (each
--                    playbook's header lists what it reads). Fields starting with _ are Splunk's
--                    own and left out, but for _raw, which becomes the incident's details.
--
-- The title is the search's name, with what it found; results_link and sid are kept in the
-- fields, to go back to the search's results in Splunk.
--
-- A search that runs every 5 minutes fires again for the same attacker while the attack goes
-- on: those alerts join the open incident (its alert_count goes up) for 12 hours instead of
-- opening one each, unless one is more severe. An attack is the search and automator_key when
-- the result gives one, else the search and the result's src_ip, user and host (those that are
-- one value each); with none of them, each alert is its own incident.
--
-- Setting it up:
--
-- 1. A token the webhook may carry in its URL. Splunk's Webhook alert action cannot send an
--    Authorization header, and a URL is logged by proxies and kept in Splunk's configuration,
--    so this token posts Splunk's alerts and is refused everywhere else:
--
--      automator token add splunk --ingest-only splunk
--
-- 2. In Splunk, on the saved search: Save As > Alert (or Edit > Edit Alert), then
--      Trigger alert when: Number of Results is greater than 0
--      Trigger: For each result (the webhook carries the first result row only)
--      Throttle (optional): suppress results with the same src_ip for an hour
--      Add Actions > Webhook, URL:
--        https://automator.example.com/api/v1/ingest/splunk?token=THE TOKEN
--    Splunk 9 and later post only to the URLs of the webhook allow list: add it there first.
--
-- 3. The search ends in the fields to emit. For SSH password guessing, say:
--
--      index=linux sourcetype=linux_secure "Failed password"
--      | rex "Failed password for (invalid user )?(?<user>\S+) from (?<src_ip>\S+)"
--      | stats count AS attempts BY src_ip, host, user
--      | where attempts >= 10
--      | eval automator_type="brute_force", severity="medium", succeeded="false"
--      | table automator_type severity src_ip host user attempts succeeded
--
-- Try it against a running `automator serve`:
--
--   curl --data-binary @scripts/examples/alerts/splunk.json \
--        "http://127.0.0.1:8080/api/v1/ingest/splunk?token=$SPLUNK_TOKEN"
--
-- For impossible_travel, a row carries the two sign-ins the playbook compares: this one in
-- time (or _time), src_ip, lat, lon, Country and City, as `iplocation` names them, and the one
-- before under the same names with prev_ in front. The mapper makes them the playbook's
-- fields.logins. A search that emits them, for Entra ID sign-ins:
--
--      index=azure sourcetype="azure:aad:signin" status.errorCode=0
--      | iplocation src_ip
--      | sort 0 user _time
--      | streamstats current=f window=1 last(_time) AS prev_time last(src_ip) AS prev_src_ip
--          last(lat) AS prev_lat last(lon) AS prev_lon last(Country) AS prev_Country
--          last(City) AS prev_City BY user
--      | where isnotnull(prev_time) AND Country != prev_Country AND _time - prev_time < 86400
--      | eval automator_type="impossible_travel", severity="medium", time=_time
--      | table automator_type severity user time src_ip lat lon Country City
--          prev_time prev_src_ip prev_lat prev_lon prev_Country prev_City
--
-- The playbook computes the speed and closes the trips a plane could make; a row without both
-- positions goes to tier 1 to compare by hand.

-- The incident types of the playbooks in scripts/playbooks/: add the types of your own.
local TYPES = { brute_force = true, c2_traffic = true, impossible_travel = true, malware = true, phishing = true }

-- Splunk Enterprise Security writes "informational" for our "info".
local SEVERITIES = {
  informational = "info", info = "info", low = "low", medium = "medium", high = "high", critical = "critical",
}

local severities = require("lib.severities")
local values = require("lib.values")
local text = values.text

-- What names the attack, when the result does not say (automator_key), in this order.
local SUBJECT = { "src_ip", "user", "host" }

-- Splunk sends every value as text: the fields the playbooks count, as numbers...
local NUMBERS = { attempts = true }
-- ... and those they test for true (brute_force's succeeded), as true or false.
local FLAGS = { succeeded = true }

-- The result's fields this mapper reads for the incident itself, not copied into its fields.
local OWN = { automator_type = true, automator_key = true, severity = true }

--- A result's value as a field: text as sent, but for the numbers and flags the playbooks read.
local function field(name, value)
  if NUMBERS[name] and type(value) == "string" then
    local number = tonumber(value)
    return number and (math.tointeger(number) or number) or value
  end
  if FLAGS[name] and type(value) == "string" then
    local lower = value:lower()
    return lower == "true" or lower == "1" or lower == "yes"
  end
  return value
end

--- A Splunk time as the playbooks read it: `_time` is seconds since the epoch, sent as text
--- ("1764396760.000"); a time already in UTC ISO 8601 is kept.
local function utc(value)
  local seconds = tonumber(value)
  if seconds then return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(seconds)) end
  return text(value)
end

--- The sign-in of a row whose fields start with `prefix` ("" for this one, "prev_" for the one
--- before), as impossible_travel.lua reads it.
local function sign_in(result, prefix)
  local function named(name) return result[prefix .. name] end
  return {
    time = utc(named("time") or (prefix == "" and result._time or nil)),
    ip = text(named("src_ip")),
    country = text(named("Country")),
    city = text(named("City")),
    lat = tonumber(named("lat")),
    lon = tonumber(named("lon")),
  }
end

--- The result's src_ip, user and host that are one value each, in that order.
local function subject(result)
  local found = {}
  for _, name in ipairs(SUBJECT) do
    found[#found + 1] = text(result[name])
  end
  return found
end

return mapper {
  map = function(alert)
    local result = type(alert.result) == "table" and alert.result or {}
    local search = text(alert.search_name) or "Splunk alert"
    local named = text(result.automator_type)
    local found = subject(result)

    local incident = {
      title = #found > 0 and ("%s (%s)"):format(search, table.concat(found, ", ")) or search,
      type = TYPES[named] and named or "splunk_alert",
      severity = SEVERITIES[(text(result.severity) or ""):lower()] or "medium",
      details = text(result._raw),
      labels = { "splunk", text(alert.app) },
      fields = {},
    }
    for name, value in pairs(result) do
      if not OWN[name] and not name:match("^_") then incident.fields[name] = field(name, value) end
    end
    if incident.type == "impossible_travel" then
      incident.fields.logins = { sign_in(result, "prev_"), sign_in(result, "") }
    end
    incident.fields.results_link = text(alert.results_link)
    incident.fields.sid = text(alert.sid)
    if named and not TYPES[named] then
      -- Said where the analyst looks, so that the admin hears of the misspelt or new type.
      incident.fields.automator_type = named
      incident.labels[#incident.labels + 1] = "unknown_automator_type"
    end

    local key = text(result.automator_key) or (#found > 0 and table.concat(found, ">")) or nil
    incident.source_ref = key and ("%s>%s"):format(search, key) or text(alert.sid)
    return incident
  end,

  -- A search that fires every few minutes while an attack goes on for hours.
  dedup_window = "12h",

  -- The same attack again joins its open incident, unless it got worse or the search now names
  -- another type: those open an incident and a run of their own.
  is_duplicate = function(new, existing)
    return new.type == existing.type and severities.no_worse(new, existing)
  end,
}
