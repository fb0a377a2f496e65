-- Tests of playbooks/brute_force.lua. Run them with:
--
--   automator test scripts/playbooks/brute_force_test.lua

local brute_force = require("playbooks.brute_force")

--- Eight failed sign-ins as deploy on web-prod-02 from `ip`; `fields` replaces some fields.
local function attempts(ip, fields)
  local incident = {
    title = "Brute force on web-prod-02 from " .. ip,
    type = "brute_force",
    severity = "medium",
    fields = { src_ip = ip, host = "web-prod-02", user = "deploy", attempts = 8, succeeded = false },
  }
  for key, value in pairs(fields or {}) do incident.fields[key] = value end
  return incident
end

test("a known-bad address is blocked for a day without waiting for an approver", function()
  stub.intel{ ["198.51.100.9"] = { verdict = "malicious", summary = 'malicious: local feed "bad-ips"' } }
  stub.action("checkpoint.block_ip", { status = "done" })

  local result = run(brute_force, attempts("198.51.100.9"))

  expect.note(result, "8 failed sign-ins as deploy on web-prod-02 from 198.51.100.9.")
  expect.note(result, 'Reputation of 198.51.100.9: malicious: local feed "bad-ips"')
  expect.equal(result.incident.severity, "high")
  local block = expect.action(result, "checkpoint.block_ip", { ip = "198.51.100.9", reason = "brute force, INC-1" })
  expect.equal(block.question, nil)
  expect.note(result, "198.51.100.9 blocked at the firewall for 24h (ACT-test1).")
  -- Test time starts on Monday 5 January 2026, 09:00 UTC.
  local lifts = "its undo runs by itself at 2026-01-06T09:00:00.000Z (ttl 1d)"
  expect.journal(result, lifts)
  expect.equal(#result.tasks, 0)
  expect.equal(result.incident.close_reason, "Brute force from 198.51.100.9: no sign-in succeeded, blocked for 24h.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("with no firewall set up, the attack is noted and closed: there is nothing for people to do", function()
  stub.intel{ ["203.0.113.77"] = "unknown" }
  stub.action("checkpoint.block_ip", false, "the integration checkpoint is not set up")

  local result = run(brute_force, attempts("203.0.113.77"))

  expect.equal(result.incident.severity, "medium")
  expect.note(result, "203.0.113.77 not blocked at the firewall: the integration checkpoint is not set up.")
  expect.equal(result.incident.close_reason, "Brute force from 203.0.113.77: no sign-in succeeded.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("an address inside our networks is never blocked: people find the service with an old password", function()
  stub.intel{ ["10.20.7.31"] = "unknown" }
  stub.task("Find what on 10.20.7.31", "an old password")

  local result = run(brute_force, attempts("10.20.7.31"))

  expect.equal(#result.actions, 0)
  local find = expect.task(result, "Find what on 10.20.7.31 tries passwords on web-prod-02")
  expect.equal(find.owner, "tier1")
  expect.contains(find.description, "inside our networks")
  expect.equal(result.incident.close_reason, "Benign: a service on 10.20.7.31 used an old password.")
  expect.equal(result.incident.resolution, "benign")
end)

test("an intruder inside our networks makes the incident critical and goes to tier 2", function()
  -- Our own ranges are on an allowlist feed: its benign verdict counts as inside.
  stub.intel{ ["192.0.2.61"] = "benign" }
  stub.task("Find what on 192.0.2.61", "an intruder")
  stub.task("Contain 192.0.2.61", "a web shell in /var/www, removed")

  local result = run(brute_force, attempts("192.0.2.61"))

  expect.equal(#result.actions, 0)
  expect.equal(result.incident.severity, "critical")
  expect.equal(expect.task(result, "Contain 192.0.2.61").owner, "tier2")
  expect.note(result, "Tier 2: a web shell in /var/www, removed")
  expect.equal(result.incident.close_reason, "Intrusion: 192.0.2.61 contained.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("a sign-in after the failures by the account's owner lifts the block", function()
  stub.intel{ ["203.0.113.77"] = "unknown" }
  stub.action("checkpoint.block_ip", { status = "done" })
  stub.task("Ask whether the sign-in as deploy on web-prod-02 was its owner", "the owner")

  local result = run(brute_force, attempts("203.0.113.77", { succeeded = true }))

  local ask = expect.task(result, "Ask whether the sign-in")
  expect.contains(ask.description, "After 8 failed sign-ins as deploy on web-prod-02, a sign-in from 203.0.113.77 succeeded.")
  expect.contains(ask.description, "Automator lifts the block if it was.")
  expect.equal(expect.action(result, "checkpoint.block_ip").undone, true)
  expect.journal(result, "ACT-test1: undone by script with checkpoint.unblock_ip")
  expect.equal(#result.tasks, 1)
  expect.equal(result.incident.close_reason, "Benign: deploy's owner signed in after mistyping the password.")
  expect.equal(result.incident.resolution, "benign")
end)

test("a block that cannot be lifted goes to the network team", function()
  stub.intel{ ["203.0.113.77"] = "unknown" }
  stub.action("checkpoint.block_ip", { status = "done" })
  stub.action("checkpoint.unblock_ip", { status = "failed", result = "Check Point: the session expired" })
  stub.task("Ask whether the sign-in", "the owner")
  stub.task("Unblock 203.0.113.77 at the firewall", "unblocked by hand")

  local result = run(brute_force, attempts("203.0.113.77", { succeeded = true }))

  expect.equal(expect.action(result, "checkpoint.block_ip").undone, nil)
  expect.journal(result, "is still in force: checkpoint.unblock_ip failed: Check Point: the session expired")
  local unblock = expect.task(result, "Unblock 203.0.113.77 at the firewall")
  expect.equal(unblock.owner, "network-team")
  expect.contains(unblock.description, "lifting its block failed: actions.undo: ACT-test1 ")
  expect.contains(unblock.description, "Check Point: the session expired")
  expect.equal(result.incident.close_reason, "Benign: deploy's owner signed in after mistyping the password.")
  expect.equal(result.incident.resolution, "benign")
end)

test("a sign-in by an intruder keeps the block, and tier 2 locks the account", function()
  stub.intel{ ["203.0.113.77"] = "unknown" }
  stub.action("checkpoint.block_ip", { status = "done" })
  stub.task("Ask whether the sign-in", "an intruder")
  stub.task("Lock deploy on web-prod-02", "a key added to authorized_keys at 08:42, removed")

  local result = run(brute_force, attempts("203.0.113.77", { succeeded = true }))

  expect.equal(result.incident.severity, "critical")
  expect.equal(#result.actions, 1)
  expect.contains(expect.task(result, "Lock deploy on web-prod-02").description, "authorized_keys")
  expect.note(result, "Tier 2: a key added to authorized_keys at 08:42, removed")
  expect.equal(result.incident.close_reason, "Account compromise: deploy on web-prod-02 locked and cleaned.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("nulls in the alert read as fields not given", function()
  stub.intel{ ["203.0.113.77"] = "unknown" }
  stub.action("checkpoint.block_ip", { status = "done" })

  local result = run(brute_force, attempts("203.0.113.77", { attempts = json.null, user = json.null, succeeded = json.null }))

  expect.note(result, "failed sign-ins on web-prod-02 from 203.0.113.77.")
  expect.equal(#result.tasks, 0)
  expect.equal(result.incident.close_reason, "Brute force from 203.0.113.77: no sign-in succeeded, blocked for 24h.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("an alert with no source address goes to tier 1", function()
  local result = run(brute_force, attempts("203.0.113.77", { src_ip = json.null }))

  expect.note(result, "The alert names no source address: review it by hand.")
  expect.equal(result.incident.owner, "tier1")
  expect.equal(result.incident.status, "new")
end)
