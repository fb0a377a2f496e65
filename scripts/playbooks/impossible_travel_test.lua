-- Tests of playbooks/impossible_travel.lua. Run them with:
--
--   automator test scripts/playbooks/impossible_travel_test.lua

local travel = require("playbooks.impossible_travel")

local LYON = { time = "2026-11-29T06:12:40Z", ip = "198.51.100.14", country = "FR", city = "Lyon", lat = 45.764, lon = 4.8357 }
local SINGAPORE = { time = "2026-11-29T07:03:15Z", ip = "203.0.113.77", country = "SG", city = "Singapore", lat = 1.3521, lon = 103.8198 }
local LISBON_NEXT_DAY = { time = "2026-11-30T06:12:40Z", ip = "198.51.100.90", country = "PT", city = "Lisbon", lat = 38.7223, lon = -9.1393 }

--- Two sign-ins of l.moreau, in the order given.
local function sign_ins(...)
  return {
    title = "Impossible travel: l.moreau@example.com",
    type = "impossible_travel",
    severity = "high",
    fields = { user = "l.moreau@example.com", manager = "k.tanaka@example.com" },
    raw = { logins = { ... } },
  }
end

test("Lyon then Singapore 50 minutes later: the user is asked, and 'it was me' closes it", function()
  stub.task("Confirm the sign-in with l.moreau@example.com", "it was me")

  local result = run(travel, sign_ins(LYON, SINGAPORE))

  expect.note(result, "10595 km in 50 min: 12567 km/h.")
  expect.equal(result.incident.fields.distance_km, 10595)
  expect.equal(expect.task(result, "Confirm the sign-in").owner, "k.tanaka@example.com")
  expect.equal(result.incident.close_reason, "Benign: l.moreau@example.com confirmed both sign-ins.")
  expect.equal(result.incident.resolution, "benign")
end)

test("a user who did not sign in is shut out at once, then gets the credentials reset", function()
  stub.task("Confirm the sign-in", "not me")
  stub.task("Reset credentials", "reset at 09:40, MFA methods checked")
  stub.action("entra.disable_user", { status = "done" })
  stub.action("entra.revoke_sessions", { status = "done" })

  local result = run(travel, sign_ins(SINGAPORE, LYON))

  expect.note(result, "did not confirm the sign-ins")
  -- Without asking an approver: the playbook's standing approval.
  expect.equal(expect.action(result, "entra.disable_user", { user = "l.moreau@example.com" }).question, nil)
  expect.action(result, "entra.revoke_sessions", { user = "l.moreau@example.com" })
  expect.note(result, "Account disabled (ACT-test1), its sessions ended.")
  local reset = expect.task(result, "Reset credentials")
  expect.equal(reset.owner, "iam-team")
  expect.contains(reset.description, "The account is disabled and its sessions ended. Reset the password")
  expect.contains(reset.description, "Automator enables the account when this task is done.")
  expect.note(result, "Identity team: reset at 09:40, MFA methods checked")
  expect.equal(result.incident.close_reason, "Account compromise: credentials reset and sessions revoked.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("an account that cannot be disabled automatically is left to the identity team whole", function()
  stub.task("Confirm the sign-in", "not me")
  stub.task("Reset credentials", "disabled and reset by hand")
  stub.action("entra.disable_user", false, "the integration entra is not set up")

  local result = run(travel, sign_ins(SINGAPORE, LYON))

  expect.note(result, "The account was not disabled automatically: the integration entra is not set up.")
  expect.equal(#result.actions, 1)
  local reset = expect.task(result, "Reset credentials")
  expect.contains(reset.description, "Disable the account, revoke every session")
  expect.equal(reset.description:find("Automator enables", 1, true), nil)
  expect.equal(result.incident.close_reason, "Account compromise: credentials reset and sessions revoked.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("sessions that could not be ended are in the identity team's task", function()
  stub.task("Confirm the sign-in", "not me")
  stub.task("Reset credentials", "done")
  stub.action("entra.disable_user", { status = "done" })
  stub.action("entra.revoke_sessions", { status = "failed", result = "Microsoft Graph, revoke sessions: 503" })

  local result = run(travel, sign_ins(SINGAPORE, LYON))

  expect.note(result, "Account disabled (ACT-test1); its sessions were not ended: "
    .. "entra.revoke_sessions failed: Microsoft Graph, revoke sessions: 503.")
  expect.contains(expect.task(result, "Reset credentials").description,
    "The account is disabled. Revoke every session and refresh token")
end)

test("an account from Okta is suspended there and its sessions cleared, then unsuspended after the reset", function()
  stub.task("Confirm the sign-in", "not me")
  stub.task("Reset credentials", "reset at 09:40")
  stub.action("okta.suspend_user", { status = "done" })
  stub.action("okta.clear_sessions", { status = "done" })
  local incident = sign_ins(SINGAPORE, LYON)
  incident.source = "okta"

  local result = run(travel, incident)

  -- Without asking an approver: the playbook's standing approval covers Okta's suspension too.
  expect.equal(expect.action(result, "okta.suspend_user", { user = "l.moreau@example.com" }).question, nil)
  expect.action(result, "okta.clear_sessions", { user = "l.moreau@example.com" })
  expect.equal(#result.actions, 2, "nothing asked of Entra ID")
  expect.note(result, "Account disabled (ACT-test1), its sessions ended.")
  expect.equal(expect.action(result, "okta.suspend_user").undone, true)
  expect.journal(result, "ACT-test1: undone by script with okta.unsuspend_user")
end)

test("a trip a plane could make is closed as benign without asking anyone", function()
  local result = run(travel, sign_ins(LYON, LISBON_NEXT_DAY))

  expect.equal(#result.tasks, 0)
  expect.equal(result.incident.close_reason, "Benign: travel is possible.")
  expect.equal(result.incident.resolution, "benign")
end)

test("sign-ins an identity provider could not place, or timed in local time, go to tier 1", function()
  local unplaced = { time = "2026-11-29T07:03:15Z", ip = "203.0.113.77", country = json.null, city = json.null,
                     lat = json.null, lon = json.null }
  local local_time = { time = "2026-11-29 08:03:15+01:00", ip = "203.0.113.77", country = "SG", lat = 1.35, lon = 103.8 }

  for _, second in ipairs({ unplaced, local_time }) do
    local result = run(travel, sign_ins(LYON, second))
    expect.note(result, "lacks a UTC time (2026-11-29T06:12:40Z), a latitude or a longitude: compare them by hand.")
    expect.equal(result.incident.owner, "tier1")
    expect.equal(#result.tasks, 0)
  end
end)

test("a sign-in with a place but no city or address names what it has", function()
  local no_city = { time = "2026-11-29T07:03:15Z", ip = json.null, country = "SG", city = json.null,
                    lat = 1.3521, lon = 103.8198 }
  stub.task("Confirm the sign-in", "it was me")

  local result = run(travel, sign_ins(LYON, no_city))

  expect.note(result, "SG (address unknown) at 2026-11-29 07:03 UTC")
  expect.equal(result.incident.status, "closed")
end)

test("an alert without two sign-ins goes to tier 1, and breaches its 4 hours there", function()
  local result = run(travel, sign_ins(LYON))
  expect.note(result, "does not carry two sign-ins")
  expect.equal(result.incident.owner, "tier1")
  expect.equal(result.incident.status, "new")

  result = advance("5h", result)

  expect.contains(result.incident.labels, "sla-breached")
  expect.note(result, "SLA breached: due")
  -- A high incident past its SLA pages the on-call (hooks/sla_breach.lua), once per incident.
  expect.equal(expect.action(result, "pagerduty.trigger").params.dedup_key, "INC-1/sla")
  expect.note(result, "On-call paged (ACT-test1, a dry run).")
end)
