-- Tests of mappers/splunk.lua, and of the brute-force and malware playbooks on what it maps. Run
-- them with:
--
--   automator test scripts/mappers/splunk_test.lua

local splunk = require("mappers.splunk")
local brute_force = require("playbooks.brute_force")
local impossible_travel = require("playbooks.impossible_travel")
local malware = require("playbooks.malware")

--- What Splunk's Webhook alert action posts for a saved search `name` whose first result row is
--- `result` (scripts/examples/alerts/splunk.json is a whole one).
local function alert(name, result)
  local sid = "scheduler__admin__search__RMD5c2b8ae2f0c0e1f4f_at_1764405600_1123"
  return {
    sid = sid,
    search_name = name,
    app = "search",
    owner = "admin",
    results_link = "https://splunk.example.com:8000/app/search/@go?sid=" .. sid,
    result = result,
  }
end

--- The example search's result row, as text the way Splunk sends it.
local function guessing(overrides)
  local result = {
    automator_type = "brute_force", severity = "medium", src_ip = "198.51.100.9", host = "web-prod-02",
    user = "deploy", attempts = "14", succeeded = "false", _time = "1764405667",
  }
  for name, value in pairs(overrides or {}) do result[name] = value end
  return alert("SSH password guessing", result)
end

test("a search's result becomes an incident of the type it names, with its fields as the playbook reads them", function()
  local incident = splunk.map(guessing())

  expect.equal(incident.type, "brute_force")
  expect.equal(incident.title, "SSH password guessing (198.51.100.9, deploy, web-prod-02)")
  expect.equal(incident.severity, "medium")
  expect.equal(incident.labels, { "splunk", "search" })
  expect.equal(incident.fields, {
    src_ip = "198.51.100.9", host = "web-prod-02", user = "deploy", attempts = 14, succeeded = false,
    results_link = "https://splunk.example.com:8000/app/search/@go?sid="
      .. "scheduler__admin__search__RMD5c2b8ae2f0c0e1f4f_at_1764405600_1123",
    sid = "scheduler__admin__search__RMD5c2b8ae2f0c0e1f4f_at_1764405600_1123",
  })
end)

test("the next run of the search on the same attacker is the same attack; a worse one or another type is not", function()
  local first = splunk.map(guessing())
  local next_run = guessing()
  next_run.sid = "scheduler__admin__search__RMD5c2b8ae2f0c0e1f4f_at_1764405900_1131"

  expect.equal(first.source_ref, "SSH password guessing>198.51.100.9>deploy>web-prod-02")
  expect.equal(splunk.map(next_run).source_ref, first.source_ref)
  expect.equal(splunk.is_duplicate(splunk.map(next_run), first), true)
  expect.equal(splunk.is_duplicate(splunk.map(guessing{ severity = "high", succeeded = "true" }), first), false)
  expect.equal(splunk.is_duplicate(splunk.map(guessing{ automator_type = "malware" }), first), false)
end)

test("automator_key names the attack when the search knows better, and a user's list is no part of it", function()
  local spraying = guessing{ user = { "deploy", "admin", "oracle" }, automator_key = "198.51.100.9" }

  local incident = splunk.map(spraying)

  expect.equal(incident.source_ref, "SSH password guessing>198.51.100.9")
  expect.equal(incident.title, "SSH password guessing (198.51.100.9, web-prod-02)")
  expect.equal(incident.fields.user, { "deploy", "admin", "oracle" })
  expect.equal(incident.fields.automator_key, nil)
end)

test("an unknown or missing automator_type is a splunk_alert for people, and says which type it was", function()
  local misspelt = splunk.map(guessing{ automator_type = "bruteforce", severity = "informational" })
  local untyped = splunk.map(alert(nil, { count = "8", sourcetype = "mongod", _raw = "slow query on db-3" }))

  expect.equal(misspelt.type, "splunk_alert")
  expect.equal(misspelt.severity, "info")
  expect.equal(misspelt.fields.automator_type, "bruteforce")
  expect.equal(misspelt.labels, { "splunk", "search", "unknown_automator_type" })
  expect.equal(untyped.type, "splunk_alert")
  expect.equal(untyped.title, "Splunk alert")
  expect.equal(untyped.severity, "medium")
  expect.equal(untyped.details, "slow query on db-3")
  expect.equal(untyped.fields.count, "8", "text stays text where no playbook counts it")
  -- Nothing names what it found: each alert is its own incident.
  expect.equal(untyped.source_ref, "scheduler__admin__search__RMD5c2b8ae2f0c0e1f4f_at_1764405600_1123")
end)

test("Splunk's test alert, with no result and a null search name, still maps", function()
  local incident = splunk.map({ sid = "rt_md_1764405600.77", search_name = json.null, result = json.null })

  expect.equal(incident.type, "splunk_alert")
  expect.equal(incident.title, "Splunk alert")
  expect.equal(incident.source_ref, "rt_md_1764405600.77")
end)

test("the brute-force playbook blocks the source a search found", function()
  stub.intel{ ["198.51.100.9"] = "malicious" }
  stub.action("checkpoint.block_ip", { status = "done" })

  local result = run(brute_force, splunk.map(guessing()))

  expect.action(result, "checkpoint.block_ip", { ip = "198.51.100.9" })
  expect.note(result, "14 failed sign-ins as deploy on web-prod-02 from 198.51.100.9.")
  expect.equal(result.incident.close_reason, "Brute force from 198.51.100.9: no sign-in succeeded, blocked for 24h.")
end)

test("the malware playbook has a detection a search found isolated and cleaned", function()
  stub.task("Isolate host LT-HR-0117", "isolated")
  stub.task("Reimage or clean LT-HR-0117", "reimaged")

  local result = run(malware, splunk.map(alert("EDR detections", {
    automator_type = "malware", severity = "high", host = "LT-HR-0117", user = "c.martin",
    file_name = "invoice.exe", sha256 = string.rep("ab", 32), action = "detected", detection = "Trojan.Agent",
  })))

  expect.note(result, "Trojan.Agent on LT-HR-0117, user c.martin\n  file     invoice.exe\n  sha256   "
    .. string.rep("ab", 32) .. "\n  process  ?\n  EDR      detected")
  expect.equal(result.incident.severity, "critical", "a file the EDR only detected may be running")
  expect.equal(result.incident.close_reason, "Trojan.Agent on LT-HR-0117: host reimaged.")
end)

--- The README's impossible-travel search's row: Lyon, then Singapore 50 minutes later, as text.
local function travelled(overrides)
  local result = {
    automator_type = "impossible_travel", severity = "medium", user = "l.moreau@example.com",
    time = "1795936995.000", src_ip = "203.0.113.77", lat = "1.3521", lon = "103.8198", Country = "Singapore",
    City = "Singapore", prev_time = "1795932760", prev_src_ip = "198.51.100.14", prev_lat = "45.764",
    prev_lon = "4.8357", prev_Country = "France", prev_City = "Lyon",
  }
  for name, value in pairs(overrides or {}) do result[name] = value end
  return alert("Sign-ins from two countries", result)
end

test("an impossible-travel row carries the two sign-ins, the first one first, as the playbook compares them", function()
  local incident = splunk.map(travelled())

  expect.equal(incident.fields.logins, {
    { time = "2026-11-29T06:12:40Z", ip = "198.51.100.14", country = "France", city = "Lyon", lat = 45.764, lon = 4.8357 },
    { time = "2026-11-29T07:23:15Z", ip = "203.0.113.77", country = "Singapore", city = "Singapore", lat = 1.3521,
      lon = 103.8198 },
  })
end)

test("the impossible-travel playbook asks the user about a trip a search found, and closes one a plane could make", function()
  stub.task("Confirm the sign-in with l.moreau@example.com", "it was me")

  local asked = run(impossible_travel, splunk.map(travelled()))

  expect.note(asked, "10595 km in 1.2 h: 9006 km/h.")
  expect.equal(asked.incident.owner, nil, "not sent to tier 1 to compare by hand")
  expect.equal(asked.incident.close_reason, "Benign: l.moreau@example.com confirmed both sign-ins.")

  local flown = run(impossible_travel, splunk.map(travelled{ time = tostring(1795932760 + 14 * 3600) }))
  expect.equal(flown.incident.close_reason, "Benign: travel is possible.")
end)

test("an impossible-travel row without positions goes to tier 1 to compare by hand", function()
  local result = run(impossible_travel, splunk.map(travelled{ lat = "", lon = "" }))

  expect.equal(result.incident.owner, "tier1")
end)
