-- Tests of mappers/splunk.lua, and of the brute-force and malware playbooks on what it maps. Run
-- them with:
--
--   automator test scripts/mappers/splunk_test.lua

local splunk = require("mappers.splunk")
local brute_force = require("playbooks.brute_force")
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
