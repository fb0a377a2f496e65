-- Tests of playbooks/alert_triage.lua. Run them with:
--
--   automator test scripts/playbooks/alert_triage_test.lua

local alert_triage = require("playbooks.alert_triage")
local defender = require("mappers.defender")

--- A defender_alert about ws-eng-0142 that names `ips`; `changes` replaces some of its parts.
local function alert(ips, changes)
  local incident = {
    title = "Suspicious execution of hidden file on ws-eng-0142",
    type = "defender_alert",
    severity = "medium",
    labels = { "defender" },
    fields = { host = "ws-eng-0142", user = "jdoe@example.com", ips = ips },
  }
  for key, value in pairs(changes or {}) do incident[key] = value end
  return incident
end

test("the indicators are looked up, a known-bad one raises the severity, and a false positive closes it", function()
  stub.intel{ ["198.51.100.7"] = "malicious", ["203.0.113.80"] = "unknown" }
  stub.task("Triage the Microsoft Defender XDR alert", "false positive")

  local result = run(alert_triage, alert({ "10.20.4.31", "198.51.100.7", "203.0.113.80" }))

  expect.no_note(result, "Reputation of 10.20.4.31")
  expect.note(result, "Reputation of 198.51.100.7: malicious")
  expect.note(result, "Reputation of 203.0.113.80: unknown")
  expect.equal(result.incident.severity, "high")
  local triage = expect.task(result, "Triage the Microsoft Defender XDR alert: Suspicious execution")
  expect.equal(triage.owner, "tier1")
  expect.contains(triage.description, "about ws-eng-0142, jdoe@example.com. Known malicious: 198.51.100.7.")
  expect.equal(triage.due, time.now() + 2 * 3600, "half the SLA of a high incident")
  expect.equal(result.incident.close_reason, "False positive: tier 1 triaged the Microsoft Defender XDR alert.")
  expect.equal(result.incident.resolution, "false_positive")
end)

test("a true positive goes to tier 2 with a task, and stays open", function()
  stub.task("Triage the", "true positive")

  local result = run(alert_triage, alert(nil))

  expect.contains(expect.task(result, "Triage the").description, "It names no indicator to look up.")
  expect.equal(result.incident.owner, "tier2")
  expect.equal(expect.task(result, "Respond to the Microsoft Defender XDR alert").owner, "tier2")
  expect.equal(result.incident.close_reason, nil)
end)

test("a sample finding and an incident its tool closed are closed at once, with no task", function()
  local sample = run(alert_triage, alert(nil, { type = "guardduty", labels = { "guardduty", "sample" } }))
  expect.equal(sample.incident.close_reason, "A sample finding of Amazon GuardDuty: its addresses are made up.")
  expect.equal(sample.incident.resolution, "benign")
  expect.equal(#sample.tasks, 0)

  local closed = run(alert_triage, alert(nil, { type = "sentinel_incident", labels = { "sentinel", "closed_in_sentinel" },
                                                fields = { classification = "FalsePositive" } }))
  expect.equal(closed.incident.close_reason, "Closed in Microsoft Sentinel already (FalsePositive).")
  expect.equal(closed.incident.resolution, "false_positive")
  expect.equal(#closed.tasks, 0)

  local falcon = run(alert_triage, alert(nil, { type = "crowdstrike_alert", labels = { "crowdstrike", "closed_in_falcon" } }))
  expect.equal(falcon.incident.close_reason, "Closed in CrowdStrike Falcon already (no classification given).")
  expect.equal(falcon.incident.resolution, nil)
  expect.equal(#falcon.tasks, 0)
end)

test("an alert that names many indicators has ten looked up and says how many were not", function()
  local ips, verdicts = {}, {}
  for i = 1, 12 do
    ips[i] = "198.51.100." .. i
    verdicts[ips[i]] = "unknown"
  end
  stub.intel(verdicts)
  stub.task("Triage the", "benign")

  local result = run(alert_triage, alert(ips))

  expect.note(result, "Reputation of 198.51.100.10: unknown")
  expect.no_note(result, "Reputation of 198.51.100.11")
  expect.note(result, "2 more indicators not asked about")
  expect.equal(result.incident.close_reason, "Benign: tier 1 triaged the Microsoft Defender XDR alert.")
  expect.equal(result.incident.resolution, "benign")
end)

test("it takes the catch-all alerts of the mappers, and no other type", function()
  local mapped = defender.map({ id = "da1", title = "Hidden file", category = "DefenseEvasion", severity = "low",
                                evidence = {} })
  expect.equal(alert_triage.match(mapped), true)
  expect.equal(alert_triage.match({ type = "c2_traffic" }), false)
end)
