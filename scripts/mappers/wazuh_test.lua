-- Tests of mappers/wazuh.lua, and of the brute-force playbook on what it maps. Run them with:
--
--   automator test scripts/mappers/wazuh_test.lua

local wazuh = require("mappers.wazuh")
local brute_force = require("playbooks.brute_force")

--- A Wazuh alert of rule `id` at `level` in `groups`, from sshd on web-prod-02, as the
--- integrator posts it (scripts/examples/alerts/wazuh.json is a whole one).
local function alert(id, level, groups, description)
  return {
    timestamp = "2026-11-29T08:41:07.512+0000",
    rule = {
      level = level, id = id, description = description, groups = groups, frequency = 8,
      mitre = { id = { "T1110" }, tactic = { "Credential Access" }, technique = { "Brute Force" } },
    },
    agent = { id = "004", name = "web-prod-02", ip = "10.20.4.12" },
    id = "1764405667.2841957",
    full_log = "Nov 29 08:41:07 web-prod-02 sshd[48219]: Failed password for deploy from 198.51.100.9 port 50122 ssh2",
    data = { srcip = "198.51.100.9", srcport = "50122", dstuser = "deploy" },
  }
end

local FAILURES = alert("5763", 10, { "syslog", "sshd", "authentication_failures" },
  "sshd: brute force trying to get access to the system. Authentication failed.")
local THEN_SUCCESS = alert("40112", 12, { "syslog", "attack", "authentication_success" },
  "Multiple authentication failures followed by a success.")

test("repeated failed sign-ins become a brute-force incident named after the attack", function()
  local incident = wazuh.map(FAILURES)

  expect.equal(incident.type, "brute_force")
  expect.equal(incident.title, "Brute force on web-prod-02 from 198.51.100.9")
  expect.equal(incident.severity, "medium")
  expect.equal(incident.source_ref, "198.51.100.9>web-prod-02")
  expect.equal(incident.fields, {
    host = "web-prod-02", host_ip = "10.20.4.12", rule = "5763", rule_level = 10, technique = "T1110",
    src_ip = "198.51.100.9", user = "deploy", attempts = 8, succeeded = false,
  })
end)

test("failures followed by a success are a brute force that succeeded, and worse", function()
  local incident = wazuh.map(THEN_SUCCESS)

  expect.equal(incident.type, "brute_force")
  expect.equal(incident.severity, "high")
  expect.equal(incident.fields.succeeded, true)
  -- The same attack: an open incident of its failures takes it as a new one, not as a repeat.
  expect.equal(wazuh.is_duplicate(incident, wazuh.map(FAILURES)), false)
  expect.equal(wazuh.is_duplicate(wazuh.map(FAILURES), wazuh.map(FAILURES)), true)
end)

test("any other alert is a wazuh_alert for people, labelled with its rule's groups", function()
  local changed = alert("550", 7, { "ossec", "syscheck", "syscheck_entry_modified", "syscheck_file" },
    "Integrity checksum changed.")
  changed.data = nil

  local incident = wazuh.map(changed)

  expect.equal(incident.type, "wazuh_alert")
  expect.equal(incident.title, "Integrity checksum changed. (web-prod-02)")
  expect.equal(incident.severity, "medium")
  expect.equal(incident.source_ref, "1764405667.2841957")
  expect.equal(incident.labels, { "wazuh", "ossec", "syscheck", "syscheck_entry_modified", "syscheck_file" })
  expect.equal(incident.fields.src_ip, nil)
end)

test("the brute-force playbook blocks the source of a mapped alert", function()
  stub.intel{ ["198.51.100.9"] = "malicious" }
  stub.action("checkpoint.block_ip", { status = "done" })

  local result = run(brute_force, wazuh.map(FAILURES))

  expect.action(result, "checkpoint.block_ip", { ip = "198.51.100.9" })
  expect.note(result, "8 failed sign-ins as deploy on web-prod-02 from 198.51.100.9.")
  expect.equal(result.incident.close_reason, "Brute force from 198.51.100.9: no sign-in succeeded, blocked for 24h.")
end)
