-- Tests of mappers/sentinel.lua, on incidents as Microsoft Sentinel's incidents API gives them,
-- with their entities. Run them with:
--
--   automator test scripts/mappers/sentinel_test.lua

local sentinel = require("mappers.sentinel")
local c2_traffic = require("playbooks.c2_traffic")

local HOST = { kind = "Host", properties = { hostName = "ws-fin-0007", dnsDomain = "corp.example.com" } }
local ACCOUNT = { kind = "Account", properties = { accountName = "m.dupont", upnSuffix = "example.com" } }

local function ip(address) return { kind = "Ip", properties = { address = address } } end

--- A Sentinel incident titled `title` with `tactics` and `entities`; `changes` replaces some of
--- its properties.
local function incident(title, tactics, entities, changes)
  local properties = {
    title = title, description = "What Sentinel's analytics rule saw.", severity = "High", status = "New",
    owner = { assignedTo = json.null, userPrincipalName = json.null }, incidentNumber = 3177,
    incidentUrl = "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/3177",
    lastModifiedTimeUtc = "2026-11-30T02:15:03.1266667Z",
    additionalData = { alertsCount = 2, alertProductNames = { "Azure Sentinel" }, tactics = tactics, techniques = { "T1071" } },
  }
  for key, value in pairs(changes or {}) do properties[key] = value end
  return { name = "73e01a99-5cd7-4139-a149-9f2736ff2ab5", properties = properties, entities = entities }
end

test("command and control becomes a c2_traffic incident from our address to the peer, as the C2 playbook reads it", function()
  local mapped = sentinel.map(incident("Beaconing to a known C2 server", { "CommandAndControl" },
    { HOST, ACCOUNT, ip("10.20.4.31"), ip("198.51.100.7"),
      { kind = "DnsResolution", properties = { domainName = "telemetry-cdn.example.net" } } }))

  expect.equal(mapped.type, "c2_traffic")
  expect.equal(mapped.title, "Beaconing to a known C2 server on ws-fin-0007")
  expect.equal(mapped.severity, "high")
  expect.equal(mapped.source_ref, "73e01a99-5cd7-4139-a149-9f2736ff2ab5")
  expect.equal(mapped.labels, { "sentinel" })
  expect.equal(mapped.details, "What Sentinel's analytics rule saw.\nhttps://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/3177")
  expect.equal(mapped.fields, {
    sentinel_incident = 3177, sentinel_status = "New", products = { "Azure Sentinel" },
    tactics = { "CommandAndControl" }, technique = "T1071", techniques = { "T1071" },
    host = "ws-fin-0007", host_ip = "10.20.4.31", user = "m.dupont@example.com",
    hosts = { "ws-fin-0007" }, users = { "m.dupont@example.com" }, ips = { "10.20.4.31", "198.51.100.7" },
    domains = { "telemetry-cdn.example.net" },
    remote_ip = "198.51.100.7", remote_domain = "telemetry-cdn.example.net",
    signature = "Beaconing to a known C2 server", confidence = "high",
  })
end)

test("the C2 playbook blocks the peer of a High Sentinel incident at once and contains the host", function()
  stub.intel{ ["198.51.100.7"] = "malicious", ["telemetry-cdn.example.net"] = "unknown" }
  stub.action("checkpoint.block_ip", { status = "done" })
  stub.action("crowdstrike.find_host", { status = "done", result = { device_id = "5e0b8f13", hostname = "WS-FIN-0007" } })
  stub.chat("Approve crowdstrike.contain_host", "approve", "alice")
  stub.action("crowdstrike.contain_host", { status = "done" })
  stub.task("Find and remove what on WS-FIN-0007", "reimaged")

  local result = run(c2_traffic, sentinel.map(incident("Beaconing to a known C2 server", { "CommandAndControl" },
    { HOST, ip("10.20.4.31"), ip("198.51.100.7") })))

  expect.action(result, "checkpoint.block_ip", { ip = "198.51.100.7" })
  expect.action(result, "crowdstrike.contain_host", { device_id = "5e0b8f13" })
end)

test("a password spray from outside becomes a brute_force incident from that address", function()
  local mapped = sentinel.map(incident("Password spray attack against Entra ID", { "CredentialAccess" },
    { ACCOUNT, ip("10.1.2.3"), ip("203.0.113.80") }, { severity = "Medium" }))

  expect.equal(mapped.type, "brute_force")
  expect.equal(mapped.severity, "medium")
  expect.equal(mapped.fields.src_ip, "203.0.113.80")
  expect.equal(mapped.fields.user, "m.dupont@example.com")
end)

test("impossible travel, phishing and malware go to their playbooks with what each reads", function()
  expect.equal(sentinel.map(incident("Impossible travel activity", { "InitialAccess" }, { ACCOUNT })).type,
               "impossible_travel")

  local mail = { kind = "MailMessage", properties = {
    p1Sender = "IT-Support@example-helpdesk.net", subject = "Your mailbox is full",
    internetMessageId = "<a1b2c3@example-helpdesk.net>", senderIP = "192.0.2.14" } }
  local phishing = sentinel.map(incident("Phishing e-mail delivered", { "InitialAccess" }, { ACCOUNT, mail }))
  expect.equal(phishing.type, "phishing")
  expect.equal(phishing.fields.sender, "it-support@example-helpdesk.net")
  expect.equal(phishing.fields.message_id, "<a1b2c3@example-helpdesk.net>")
  expect.equal(phishing.fields.sender_ip, "192.0.2.14")

  local hash = string.rep("AB", 32)
  local malware = sentinel.map(incident("Ransomware dropped on a file server", { "Impact" }, {
    HOST, { kind = "File", properties = { fileName = "locker.exe" } },
    { kind = "FileHash", properties = { algorithm = "MD5", hashValue = string.rep("cd", 16) } },
    { kind = "FileHash", properties = { algorithm = "SHA256", hashValue = hash } } }))
  expect.equal(malware.type, "malware")
  expect.equal(malware.fields.sha256, hash:lower())
  expect.equal(malware.fields.file_name, "locker.exe")
  expect.equal(malware.fields.host, "ws-fin-0007")
end)

test("an incident Sentinel already closed opens one that starts no playbook, and says so", function()
  local mapped = sentinel.map(incident("Beaconing to a known C2 server", { "CommandAndControl" }, { HOST, ip("198.51.100.7") },
    { status = "Closed", classification = "FalsePositive", classificationReason = "IncorrectAlertLogic",
      classificationComment = "Closed in Automator as INC-7: a test" }))

  expect.equal(mapped.type, "sentinel_incident")
  expect.equal(mapped.labels, { "sentinel", "closed_in_sentinel" })
  expect.equal(mapped.fields.classification, "FalsePositive")
  -- What joins our incident when it is closed too, instead of opening one.
  expect.equal(mapped.closed_in_source,
    { status = "Closed", classification = "FalsePositive", comment = "Closed in Automator as INC-7: a test" })

  local open = sentinel.map(incident("Beaconing to a known C2 server", { "CommandAndControl" }, { HOST }))
  expect.equal(open.closed_in_source, nil)
end)

test("anything else is a sentinel_incident for people; what is not an incident is refused", function()
  local mapped = sentinel.map(incident("Rare process run by a service account", { "Execution" }, {},
    { severity = "Informational" }))
  expect.equal(mapped.type, "sentinel_incident")
  expect.equal(mapped.severity, "info")
  expect.equal(mapped.fields.hosts, nil)

  local ok, problem = pcall(sentinel.map, { properties = { title = "no name" } })
  expect.equal(ok, false)
  expect.equal(problem, "not a Microsoft Sentinel incident: it has no name and properties.title")
end)

test("an update of the incident joins the open one, unless it got more severe", function()
  local medium = sentinel.map(incident("Suspicious sign-in", {}, {}, { severity = "Medium" }))
  local high = sentinel.map(incident("Suspicious sign-in", {}, {}, { severity = "High" }))

  expect.equal(sentinel.is_duplicate(medium, medium), true)
  expect.equal(sentinel.is_duplicate(high, medium), false)
end)
