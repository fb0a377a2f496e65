-- Tests of mappers/crowdstrike.lua, on alerts as CrowdStrike Falcon's Alerts API v2 gives them. Run
-- them with:
--
--   automator test scripts/mappers/crowdstrike_test.lua

local crowdstrike = require("mappers.crowdstrike")
local malware = require("playbooks.malware")

local ID = "d615b8c2f4e34c0fb7a2e5d91c3f6a10:ind:5e0b8f136c244a9db7e192d4f0a3c658:4389120745-10304-18449168"
local DEVICE = {
  device_id = "5e0b8f136c244a9db7e192d4f0a3c658", hostname = "WS-FIN-0231", local_ip = "192.0.2.37",
  external_ip = "203.0.113.14", platform_name = "Windows",
}

--- An endpoint alert of `tactic` and `technique_id` named `display_name`; `changes` replaces some of its fields.
local function alert(tactic, technique_id, display_name, changes)
  local falcon = {
    composite_id = ID, product = "epp", type = "ldt", status = "new", display_name = display_name,
    name = "CloudBasedMLHigh", description = "What Falcon saw.", severity = 70, severity_name = "High",
    tactic = tactic, technique_id = technique_id, technique = "Cloud-based ML",
    updated_timestamp = "2026-11-30T02:14:09.902133871Z", device = DEVICE, user_name = "j.alvarez",
    filename = "Remittance_1129.pdf.exe", filepath = "\\Device\\HarddiskVolume3\\Users\\j.alvarez\\Downloads\\Remittance_1129.pdf.exe",
    cmdline = '"C:\\Users\\j.alvarez\\Downloads\\Remittance_1129.pdf.exe"',
    parent_details = { filename = "OUTLOOK.EXE" }, grandparent_details = { filename = "explorer.exe" },
    falcon_host_link = "https://falcon.crowdstrike.com/activity-v2/detections/" .. ID,
  }
  for key, value in pairs(changes or {}) do falcon[key] = value end
  return falcon
end

local SHA256 = "C58900101BC338438230C6526651868A9EBEE9D87D4CBF204E2680A8861C8E28"

test("a malicious file becomes a malware incident with what the malware playbook reads, the host's device id too", function()
  local incident = crowdstrike.map(alert("Machine Learning", "CST0008", "Cloud-based ML detected a malicious file",
    { sha256 = SHA256, pattern_disposition_details = { detect = true, kill_process = true, quarantine_file = false } }))

  expect.equal(incident.type, "malware")
  expect.equal(incident.title, "Cloud-based ML detected a malicious file on WS-FIN-0231")
  expect.equal(incident.severity, "high")
  expect.equal(incident.source_ref, ID)
  expect.equal(incident.labels, { "crowdstrike", "epp", "Machine Learning", "CST0008" })
  expect.equal(incident.details, "What Falcon saw.\nhttps://falcon.crowdstrike.com/activity-v2/detections/" .. ID)
  expect.equal(incident.fields, {
    alert_id = ID, tactic = "Machine Learning", technique = "CST0008", technique_name = "Cloud-based ML",
    host = "WS-FIN-0231", host_ip = "192.0.2.37", device_id = "5e0b8f136c244a9db7e192d4f0a3c658", platform = "Windows",
    user = "j.alvarez", file_name = "Remittance_1129.pdf.exe",
    file_path = "\\Device\\HarddiskVolume3\\Users\\j.alvarez\\Downloads\\Remittance_1129.pdf.exe",
    sha256 = "c58900101bc338438230c6526651868a9ebee9d87d4cbf204e2680a8861c8e28",
    command_line = '"C:\\Users\\j.alvarez\\Downloads\\Remittance_1129.pdf.exe"',
    process_chain = "explorer.exe > OUTLOOK.EXE > Remittance_1129.pdf.exe",
    -- A killed process's file can run again: not one the playbook leaves be.
    action = "killed", detection = "Cloud-based ML detected a malicious file",
  })
end)

test("the malware playbook contains the host by the alert's Falcon device id", function()
  stub.chat("Approve crowdstrike.contain_host", "approve", "alice")
  stub.action("crowdstrike.contain_host", { status = "done" })
  stub.task("Reimage or clean WS-FIN-0231", "reimaged")

  local result = run(malware, crowdstrike.map(alert("Malware", "CST0001", "Known malware", { sha256 = SHA256 })))

  expect.action(result, "crowdstrike.contain_host", { device_id = "5e0b8f136c244a9db7e192d4f0a3c658" })
  expect.note(result, "Host WS-FIN-0231 contained by the EDR (ACT-test1).")
end)

test("a file Falcon quarantined or blocked reads as one that cannot run", function()
  local function action(done)
    return crowdstrike.map(alert("Malware", "CST0001", "Known malware",
      { sha256 = SHA256, pattern_disposition_details = done })).fields.action
  end

  expect.equal(action({ quarantine_file = true, kill_process = true }), "quarantined")
  expect.equal(action({ process_blocked = true }), "blocked")
  expect.equal(action({ detect = true }), "detected")
end)

test("command and control with a peer becomes a c2_traffic incident, the host's own address left out", function()
  local incident = crowdstrike.map(alert("Command and Control", "T1071.001", "Beaconing to a known C2 server", {
    tactic_id = "TA0011", severity = 50, severity_name = "Medium",
    network_accesses = {
      { local_address = "192.0.2.37", local_port = 49731, remote_address = "192.0.2.37", remote_port = 445 },
      { local_address = "192.0.2.37", local_port = 49732, remote_address = "198.51.100.7", remote_port = 443,
        connection_direction = "0", protocol = "TCP" },
    },
    dns_requests = { { domain_name = "telemetry-cdn.example.net", request_type = "A" } },
  }))

  expect.equal(incident.type, "c2_traffic")
  expect.equal(incident.severity, "medium")
  expect.equal(incident.fields.host_ip, "192.0.2.37")
  expect.equal(incident.fields.remote_ip, "198.51.100.7")
  expect.equal(incident.fields.remote_domain, "telemetry-cdn.example.net")
  expect.equal(incident.fields.device_id, "5e0b8f136c244a9db7e192d4f0a3c658")
  -- What the C2 playbook reads: a Medium alert is not sure enough to act before tier 1.
  expect.equal(incident.fields.signature, "Beaconing to a known C2 server")
  expect.equal(incident.fields.confidence, "medium")
end)

test("command and control without a peer is a crowdstrike_alert: the C2 playbook needs the other side", function()
  local incident = crowdstrike.map(alert("Command and Control", "T1071", "Suspicious traffic", { tactic_id = "TA0011" }))

  expect.equal(incident.type, "crowdstrike_alert")
end)

test("password guessing from an address becomes a brute_force incident; credential dumping stays an alert", function()
  local spray = crowdstrike.map(alert("Credential Access", "T1110.003", "Password spraying", {
    tactic_id = "TA0006", network_accesses = { { remote_address = "203.0.113.80", remote_port = 445 } },
  }))
  local dumping = crowdstrike.map(alert("Credential Access", "T1003.001", "LSASS memory read", { tactic_id = "TA0006" }))

  expect.equal(spray.type, "brute_force")
  expect.equal(spray.fields.src_ip, "203.0.113.80")
  expect.equal(spray.fields.user, "j.alvarez")
  expect.equal(dumping.type, "crowdstrike_alert")
  expect.equal(dumping.labels, { "crowdstrike", "epp", "Credential Access", "T1003.001" })
end)

test("severity comes from severity_name, else from Falcon's 1 to 100", function()
  -- json.null: the field is absent from Falcon's answer.
  local function severity(score, name)
    return crowdstrike.map(alert("Execution", "T1059", "Script",
      { severity = score or json.null, severity_name = name or json.null })).severity
  end

  expect.equal(severity(95, "Critical"), "critical")
  expect.equal(severity(10, "Informational"), "info")
  expect.equal(severity(90), "critical")
  expect.equal(severity(70), "high")
  expect.equal(severity(50), "medium")
  expect.equal(severity(20), "low")
  expect.equal(severity(5), "info")
  expect.equal(severity(), "medium")
end)

test("an identity alert without a device has no host, and still a title", function()
  local incident = crowdstrike.map(alert("Lateral Movement", "T1550", "Pass-the-hash", { product = "idp", device = json.null,
    display_name = json.null, name = "PassTheHash" }))

  expect.equal(incident.title, "PassTheHash")
  expect.equal(incident.fields.host, nil)
  expect.equal(incident.fields.device_id, nil)
  expect.equal(incident.labels, { "crowdstrike", "idp", "Lateral Movement", "T1550" })
end)

test("an update of the alert joins its open incident, unless it got more severe", function()
  local low = crowdstrike.map(alert("Execution", "T1059", "Script", { severity = 30, severity_name = "Low" }))
  local high = crowdstrike.map(alert("Execution", "T1059", "Script"))

  expect.equal(crowdstrike.is_duplicate(low, high), true)
  expect.equal(crowdstrike.is_duplicate(high, low), false)
end)

test("an alert Falcon closed is an alert for triage to close, not a playbook's: its host is not contained again", function()
  local closed = alert("Machine Learning", "CST0008", "Cloud-based ML detected a malicious file",
    { sha256 = SHA256, status = "closed", tags = { "automator/true_positive" } })

  local incident = crowdstrike.map(closed)

  expect.equal(incident.type, "crowdstrike_alert")
  expect.contains(incident.labels, "closed_in_falcon")
  expect.equal(incident.closed_in_source, { status = "closed" })
  -- From the fetch, as ingestion keeps it: the close hook's write-back leaves the alert as Falcon closed it.
  incident.source = "crowdstrike"
  local result = run(require("playbooks.alert_triage"), incident)
  expect.equal(result.incident.close_reason, "Closed in CrowdStrike Falcon already (no classification given).")
  expect.equal(#result.actions, 0)
end)

test("what is not a Falcon alert is refused, saying so", function()
  local ok, problem = pcall(crowdstrike.map, { resources = {} })

  expect.equal(ok, false)
  expect.equal(problem, "not a CrowdStrike Falcon alert: it has no composite_id")
end)
