-- Tests of mappers/defender.lua, on alerts as Microsoft Graph's alerts_v2 gives them. Run them with:
--
--   automator test scripts/mappers/defender_test.lua

local defender = require("mappers.defender")
local impossible_travel = require("playbooks.impossible_travel")

local DEVICE = {
  ["@odata.type"] = "#microsoft.graph.security.deviceEvidence", verdict = "suspicious",
  mdeDeviceId = "73e7e2de709dff64ef64b1d0c30e67fab63279db", deviceDnsName = "lt-hr-0117.corp.example.com",
  ipInterfaces = { "10.20.4.31" },
}
local USER = {
  ["@odata.type"] = "#microsoft.graph.security.userEvidence",
  userAccount = { accountName = "jdoe", domainName = "CORP", userPrincipalName = "jdoe@example.com" },
}
local FILE = {
  ["@odata.type"] = "#microsoft.graph.security.fileEvidence", verdict = "malicious", detectionStatus = "detected",
  remediationStatus = "none",
  fileDetails = { sha256 = "8963A19FB992AD9A76576C5638FD68292CFFB9AAAC29EB8285F9ABF6196A7DEC",
                  fileName = "invoice_2611.pdf.exe", filePath = "C:\\Users\\jdoe\\Downloads" },
}

local function ip(address) return { ["@odata.type"] = "#microsoft.graph.security.ipEvidence", ipAddress = address } end
local function url(address) return { ["@odata.type"] = "#microsoft.graph.security.urlEvidence", url = address } end

--- An alerts_v2 alert of `category` titled `title`, with `evidence`; `changes` replaces some of its fields.
local function alert(category, title, evidence, changes)
  local graph = {
    ["@odata.type"] = "#microsoft.graph.security.alert",
    id = "da638671950271230000_-1284772121", incidentId = "4127", status = "new", severity = "high",
    serviceSource = "microsoftDefenderForEndpoint", detectionSource = "antivirus",
    title = title, category = category, description = "What Defender saw.",
    alertWebUrl = "https://security.microsoft.com/alerts/da638671950271230000_-1284772121",
    threatDisplayName = json.null, mitreTechniques = { "T1204.002", "T1059.001" },
    lastUpdateDateTime = "2026-11-30T02:15:03.1266667Z", evidence = evidence,
  }
  for key, value in pairs(changes or {}) do graph[key] = value end
  return graph
end

test("a file Defender's antivirus detected becomes a malware incident with what the malware playbook reads", function()
  local incident = defender.map(alert("Malware", "'Emotet' malware was detected",
    { DEVICE, USER, FILE, url("http://files-invoice.example.net/download/2611") },
    { threatDisplayName = "Trojan:Win32/Emotet.RPX!MTB" }))

  expect.equal(incident.type, "malware")
  expect.equal(incident.title, "'Emotet' malware was detected on lt-hr-0117.corp.example.com")
  expect.equal(incident.severity, "high")
  expect.equal(incident.source_ref, "da638671950271230000_-1284772121")
  expect.equal(incident.labels, { "defender", "microsoftDefenderForEndpoint" })
  expect.equal(incident.details, "What Defender saw.\nhttps://security.microsoft.com/alerts/da638671950271230000_-1284772121")
  expect.equal(incident.fields, {
    alert_id = "da638671950271230000_-1284772121", defender_incident = "4127", category = "Malware",
    service_source = "microsoftDefenderForEndpoint", detection_source = "antivirus",
    technique = "T1204.002", techniques = { "T1204.002", "T1059.001" },
    host = "lt-hr-0117.corp.example.com", host_ip = "10.20.4.31", mde_device_id = "73e7e2de709dff64ef64b1d0c30e67fab63279db",
    user = "jdoe@example.com", hosts = { "lt-hr-0117.corp.example.com" }, users = { "jdoe@example.com" },
    urls = { "http://files-invoice.example.net/download/2611" },
    sha256 = "8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec", file_name = "invoice_2611.pdf.exe",
    file_path = "C:\\Users\\jdoe\\Downloads", action = "detected", detection = "Trojan:Win32/Emotet.RPX!MTB",
    sha256s = { "8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec" },
  })
end)

test("a file Defender blocked or remediated reads as one that cannot run", function()
  local blocked = { ["@odata.type"] = FILE["@odata.type"], detectionStatus = "prevented", fileDetails = FILE.fileDetails }
  local remediated = { ["@odata.type"] = FILE["@odata.type"], detectionStatus = "detected", remediationStatus = "remediated",
                       fileDetails = FILE.fileDetails }

  expect.equal(defender.map(alert("Malware", "Emotet", { DEVICE, blocked })).fields.action, "blocked")
  expect.equal(defender.map(alert("Malware", "Emotet", { DEVICE, remediated })).fields.action, "quarantined")
end)

test("command and control becomes a c2_traffic incident with the remote peer", function()
  local incident = defender.map(alert("CommandAndControl", "Communication with a known C2 server",
    { DEVICE, ip("10.20.4.31"), ip("198.51.100.7"), url("https://telemetry-cdn.example.net/jquery-3.3.1.min.js") },
    { detectionSource = "microsoftDefenderForEndpoint", severity = "medium" }))

  expect.equal(incident.type, "c2_traffic")
  expect.equal(incident.severity, "medium")
  expect.equal(incident.fields.host_ip, "10.20.4.31")
  expect.equal(incident.fields.remote_ip, "198.51.100.7")
  expect.equal(incident.fields.remote_domain, "telemetry-cdn.example.net")
  expect.equal(incident.fields.ips, { "10.20.4.31", "198.51.100.7" })
  -- What the C2 playbook reads: a Medium alert is not sure enough to act before tier 1.
  expect.equal(incident.fields.signature, "Communication with a known C2 server")
  expect.equal(incident.fields.confidence, "medium")
  expect.equal(defender.map(alert("CommandAndControl", "C2", { DEVICE, ip("198.51.100.7") })).fields.confidence, "high")
end)

test("a password spray becomes a brute_force incident from the address that is not the device's", function()
  local incident = defender.map(alert("CredentialAccess", "Password spray attack",
    { DEVICE, USER, ip("10.20.4.31"), ip("203.0.113.80") },
    { serviceSource = "microsoftDefenderForIdentity", detectionSource = "microsoftDefenderForIdentity" }))

  expect.equal(incident.type, "brute_force")
  expect.equal(incident.fields.src_ip, "203.0.113.80")
  expect.equal(incident.fields.user, "jdoe@example.com")
  expect.equal(incident.fields.host, "lt-hr-0117.corp.example.com")
end)

test("impossible travel goes to its playbook, which has people review an alert without the two sign-ins", function()
  local incident = defender.map(alert("InitialAccess", "Impossible travel activity", { USER, ip("203.0.113.80") },
    { serviceSource = "microsoftDefenderForCloudApps", detectionSource = "cloudAppSecurity", severity = "medium" }))

  expect.equal(incident.type, "impossible_travel")
  expect.equal(incident.fields.user, "jdoe@example.com")
  local result = run(impossible_travel, incident)
  expect.equal(result.incident.owner, "tier1")
end)

test("a phishing e-mail becomes a phishing incident with its sender, subject and message id", function()
  local message = {
    ["@odata.type"] = "#microsoft.graph.security.analyzedMessageEvidence",
    p1Sender = { emailAddress = "IT-Support@example-helpdesk.net", displayName = "IT Support" },
    subject = "Your mailbox is full", internetMessageId = "<a1b2c3@example-helpdesk.net>", senderIp = "192.0.2.14",
  }
  local incident = defender.map(alert("InitialAccess", "Email messages containing phish URLs removed after delivery",
    { message, url("https://login.example-helpdesk.net/owa") },
    { serviceSource = "microsoftDefenderForOffice365", detectionSource = "microsoftDefenderForOffice365" }))

  expect.equal(incident.type, "phishing")
  expect.equal(incident.fields.sender, "it-support@example-helpdesk.net")
  expect.equal(incident.fields.subject, "Your mailbox is full")
  expect.equal(incident.fields.message_id, "<a1b2c3@example-helpdesk.net>")
  expect.equal(incident.fields.urls, { "https://login.example-helpdesk.net/owa" })
end)

test("any other alert is a defender_alert for people, its unknown severity medium", function()
  local incident = defender.map(alert("DefenseEvasion", "Suspicious execution of hidden file", { DEVICE },
    { severity = "unknown", detectionSource = "microsoftDefenderForEndpoint" }))

  expect.equal(incident.type, "defender_alert")
  expect.equal(incident.severity, "medium")
end)

test("an update of the alert joins its open incident, unless it got more severe", function()
  local low = defender.map(alert("DefenseEvasion", "Hidden file", { DEVICE }, { severity = "low" }))
  local high = defender.map(alert("DefenseEvasion", "Hidden file", { DEVICE }))

  expect.equal(defender.is_duplicate(low, high), true)
  expect.equal(defender.is_duplicate(high, low), false)
end)

test("an alert Defender resolved is an alert for triage to close with its classification, not a playbook's", function()
  local resolved = alert("Malware", "'Emotet' malware was detected", { DEVICE, FILE },
    { status = "resolved", classification = "falsePositive",
      comments = { { comment = "Seen by tier 1", createdByDisplayName = "alice" },
                   { comment = "Closed in Automator as INC-7: a test file", createdByDisplayName = "Automator" } } })

  local incident = defender.map(resolved)

  expect.equal(incident.type, "defender_alert")
  expect.equal(incident.labels, { "defender", "microsoftDefenderForEndpoint", "closed_in_defender" })
  expect.equal(incident.closed_in_source, { status = "resolved", classification = "falsePositive",
                                            comment = "Closed in Automator as INC-7: a test file" })
  expect.equal(defender.map(alert("Malware", "'Emotet' malware was detected", { DEVICE, FILE })).closed_in_source, nil)
  -- From the fetch, with no incident here for it: the close hook's write-back leaves the alert as it is.
  incident.source = "defender"
  local result = run(require("playbooks.alert_triage"), incident)
  expect.equal(result.incident.close_reason, "Closed in Microsoft Defender XDR already (falsePositive).")
  expect.equal(result.incident.resolution, "false_positive")
  expect.equal(#result.actions, 0)
end)

test("what is not an alerts_v2 alert is refused, saying so", function()
  local ok, problem = pcall(defender.map, { value = {} })

  expect.equal(ok, false)
  expect.equal(problem, "not a Microsoft Graph alerts_v2 alert: it has no id and title")
end)
