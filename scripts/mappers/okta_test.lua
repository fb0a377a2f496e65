-- Tests of mappers/okta.lua, on events as Okta's System Log API gives them. Run them with:
--
--   automator test scripts/mappers/okta_test.lua

local okta = require("mappers.okta")
local brute_force = require("playbooks.brute_force")
local alert_triage = require("playbooks.alert_triage")

local LEA = { id = "00u1x7q9zkAbCdEf5d7", type = "User", alternateId = "l.moreau@example.com", displayName = "Lea Moreau" }
local ADMIN = { id = "00u2admin0000000001", type = "User", alternateId = "it.admin@example.com", displayName = "IT Admin" }

--- A System Log event `event_type` from `ip`, done by `actor`; `changes` replaces some of its members.
local function event(event_type, ip, actor, changes)
  local logged = {
    uuid = "uuid-" .. event_type .. "-" .. (ip or "none"), published = "2026-11-30T02:14:09.902Z", eventType = event_type,
    version = "0", severity = "WARN", displayMessage = "What Okta says", actor = actor,
    client = { ipAddress = ip, geographicalContext = { city = "Amsterdam", country = "Netherlands",
                                                       geolocation = { lat = 52.374, lon = 4.8897 } } },
    outcome = { result = "DENY", reason = "Password Spray" }, target = {},
  }
  for key, value in pairs(changes or {}) do logged[key] = value end
  return logged
end

test("ThreatInsight's password spray becomes a brute_force incident from its address, the account as its user", function()
  local incident = okta.map(event("security.threat.detected", "203.0.113.45", LEA,
                                  { displayMessage = "Request from suspicious actor" }))

  expect.equal(incident.type, "brute_force")
  expect.equal(incident.title, "Okta ThreatInsight: password spraying or credential stuffing: l.moreau@example.com")
  expect.equal(incident.severity, "high")
  expect.equal(incident.labels, { "okta", "security.threat.detected" })
  expect.equal(incident.details, "Request from suspicious actor\n"
    .. "security.threat.detected at 2026-11-30T02:14:09.902Z, outcome DENY: Password Spray")
  expect.equal(incident.fields, {
    event_type = "security.threat.detected", okta_event_id = "uuid-security.threat.detected-203.0.113.45",
    user = "l.moreau@example.com", actor = "l.moreau@example.com", src_ip = "203.0.113.45",
    country = "Netherlands", city = "Amsterdam", outcome = "DENY", published = "2026-11-30T02:14:09.902Z",
  })
end)

test("a spray's events and the lockouts it causes are one incident an hour by address; another address is another", function()
  local first = okta.map(event("security.threat.detected", "203.0.113.45", LEA))
  local later = okta.map(event("security.threat.detected", "203.0.113.45", ADMIN,
                               { uuid = "uuid-2", published = "2026-11-30T02:21:40.118Z" }))
  local locked = okta.map(event("user.account.lock", "203.0.113.45", LEA, { outcome = { result = "FAILURE" } }))
  local elsewhere = okta.map(event("security.threat.detected", "198.51.100.23", LEA))

  expect.equal(later.source_ref, first.source_ref)
  expect.equal(locked.source_ref, first.source_ref)
  expect.equal(locked.type, "brute_force")
  expect.equal(locked.severity, "medium")
  expect.equal(locked.fields.user, "l.moreau@example.com")
  expect.equal(elsewhere.source_ref == first.source_ref, false)
  expect.equal(okta.dedup_window, "1h")
end)

test("the brute force playbook blocks the sprayer's address, named by the Okta event", function()
  stub.intel{ ["203.0.113.45"] = { verdict = "malicious", summary = "malicious: local feed" } }
  stub.action("checkpoint.block_ip", { status = "done" })

  local result = run(brute_force, okta.map(event("security.threat.detected", "203.0.113.45", LEA)))

  expect.action(result, "checkpoint.block_ip", { ip = "203.0.113.45" })
  expect.note(result, "failed sign-ins as l.moreau@example.com")
end)

test("a lockout with no address is no brute force to block: an okta_event for people", function()
  local incident = okta.map(event("user.account.lock", nil, LEA))

  expect.equal(incident.type, "okta_event")
  expect.equal(incident.source_ref, "uuid-user.account.lock-none")
  expect.equal(incident.fields.src_ip, nil)
end)

test("pushes denied one after another are one incident for the user; alert triage takes it", function()
  local denied = okta.map(event("user.mfa.okta_verify.deny_push", "198.51.100.23", LEA))
  local again = okta.map(event("user.mfa.okta_verify.deny_push", "198.51.100.23", LEA, { uuid = "uuid-again" }))

  expect.equal(denied.type, "okta_event")
  expect.equal(denied.title, "Okta Verify push denied: possible MFA fatigue: l.moreau@example.com")
  expect.equal(denied.severity, "high")
  expect.equal(again.source_ref, denied.source_ref)
  expect.equal(alert_triage.match(denied), true)

  stub.intel{ ["198.51.100.23"] = "unknown" }
  stub.task("Triage the Okta alert", "true positive")
  local result = run(alert_triage, denied)
  expect.note(result, "Reputation of 198.51.100.23: unknown")
end)

test("a role granted names who got it and who gave it; each grant is its own incident", function()
  local granted = okta.map(event("user.account.privilege.grant", "192.0.2.10", ADMIN,
    { severity = "INFO", target = { { id = "00u1x7q9zkAbCdEf5d7", type = "User", alternateId = "l.moreau@example.com",
                                      displayName = "Lea Moreau" } } }))
  local to_group = okta.map(event("group.privilege.grant", "192.0.2.10", ADMIN,
    { uuid = "uuid-group", target = { { id = "00g1", type = "Group", displayName = "Helpdesk" } } }))

  expect.equal(granted.title, "Admin role granted to a user: l.moreau@example.com")
  expect.equal(granted.fields.user, "l.moreau@example.com")
  expect.equal(granted.fields.actor, "it.admin@example.com")
  expect.equal(granted.source_ref, "uuid-user.account.privilege.grant-192.0.2.10")
  expect.equal(to_group.title, "Admin role granted to a group: Helpdesk")
  expect.equal(to_group.fields.group, "Helpdesk")
  expect.equal(to_group.fields.user, "it.admin@example.com")
end)

test("another event type takes Okta's severity and message; what is no System Log event is refused", function()
  local other = okta.map(event("user.session.start", "192.0.2.10", LEA,
                               { severity = "INFO", displayMessage = "User login to Okta" }))
  expect.equal(other.type, "okta_event")
  expect.equal(other.severity, "low")
  expect.equal(other.title, "User login to Okta: l.moreau@example.com")

  local ok, problem = pcall(okta.map, { displayMessage = "no uuid" })
  expect.equal(ok, false)
  expect.equal(problem, "not an Okta System Log event: it has no uuid or eventType")
end)
