-- Tests of mappers/suricata.lua, and of the C2 playbook on what it maps. Run them with:
--
--   automator test scripts/mappers/suricata_test.lua

local suricata = require("mappers.suricata")
local c2_traffic = require("playbooks.c2_traffic")

--- A Suricata alert of the rule `signature` in `category`, from 10.20.4.31 to 198.51.100.7 over
--- TLS, as eve.json has it (scripts/examples/alerts/suricata.json is a whole one); `changes`
--- replaces some of its top-level fields.
local function alert(signature, category, severity, metadata, changes)
  local eve = {
    timestamp = "2026-11-30T02:14:51.330912+0000",
    flow_id = 1385720193264751,
    event_type = "alert",
    src_ip = "10.20.4.31", src_port = 52814,
    dest_ip = "198.51.100.7", dest_port = 443,
    proto = "TCP", app_proto = "tls",
    host = "ids-core-01",
    alert = {
      action = "allowed", gid = 1, signature_id = 2049417, rev = 2,
      signature = signature, category = category, severity = severity, metadata = metadata,
    },
    tls = { sni = "Telemetry-CDN.example.net", version = "TLS 1.2" },
  }
  for key, value in pairs(changes or {}) do eve[key] = value end
  return eve
end

local BEACON = alert("ET MALWARE Cobalt Strike Beacon Domain in TLS SNI",
  "Malware Command and Control Activity Detected", 1, {
    confidence = { "High" }, signature_severity = { "Major" }, malware_family = { "Cobalt_Strike" },
  })

test("a beacon to a C2 server becomes a c2_traffic incident named after the host and its peer", function()
  local incident = suricata.map(BEACON)

  expect.equal(incident.type, "c2_traffic")
  expect.equal(incident.title, "C2 traffic from 10.20.4.31 to 198.51.100.7")
  expect.equal(incident.severity, "high")
  expect.equal(incident.source_ref, "10.20.4.31>198.51.100.7")
  expect.equal(incident.labels, { "suricata", "c2" })
  expect.equal(incident.details,
    "2026-11-30T02:14:51.330912+0000 10.20.4.31:52814 -> 198.51.100.7:443 TCP/tls, flow 1385720193264751, sensor ids-core-01")
  expect.equal(incident.fields, {
    host_ip = "10.20.4.31", remote_ip = "198.51.100.7", remote_domain = "telemetry-cdn.example.net",
    signature = "ET MALWARE Cobalt Strike Beacon Domain in TLS SNI", signature_id = 2049417,
    category = "Malware Command and Control Activity Detected", confidence = "high", malware_family = "Cobalt_Strike",
  })
end)

test("the C2 server's answer is the same incident: our host is the side in HOME_NET, whichever way the packet went", function()
  local answer = alert("ET MALWARE Cobalt Strike Beacon Response", "A Network Trojan was detected", 1, nil, {
    src_ip = "198.51.100.7", src_port = 443, dest_ip = "10.20.4.31", dest_port = 52814, tls = json.null,
    http = { hostname = "telemetry-cdn.example.net", url = "/jquery-3.3.1.min.js" },
  })

  local incident = suricata.map(answer)

  expect.equal(incident.type, "c2_traffic")
  expect.equal(incident.source_ref, "10.20.4.31>198.51.100.7")
  expect.equal(incident.fields.host_ip, "10.20.4.31")
  expect.equal(incident.fields.remote_domain, "telemetry-cdn.example.net")
  -- No signature_severity: Suricata's priority 1 is high; no confidence given, none invented.
  expect.equal(incident.severity, "high")
  expect.equal(incident.fields.confidence, nil)
end)

test("ET MALWARE and ET CNC rules of another category, and ATT&CK's C2 tactic, are C2 too", function()
  local cnc = suricata.map(alert("ET CNC Feodo Tracker Reported CnC Server group 1", "Misc Attack", 2))
  local tactic = suricata.map(alert("Local rule: beacon every 60 s", "Potentially Bad Traffic", 2,
    { mitre_tactic_id = { "TA0011" }, signature_severity = { "Critical" } }))

  expect.equal(cnc.type, "c2_traffic")
  expect.equal(cnc.severity, "medium")
  expect.equal(tactic.type, "c2_traffic")
  expect.equal(tactic.severity, "critical")
end)

test("a C2 domain looked up in DNS names the domain as the peer, never the resolver", function()
  local lookup = alert("ET MALWARE Cobalt Strike CnC Domain in DNS Lookup", "Domain Observed Used for C2 Detected", 1,
    nil, { dest_ip = "10.20.0.53", dest_port = 53, proto = "UDP", app_proto = "dns", tls = json.null,
           dns = { query = { { type = "query", rrname = "telemetry-cdn.example.net", rrtype = "A" } } } })

  local incident = suricata.map(lookup)

  expect.equal(incident.title, "C2 traffic from 10.20.4.31 to telemetry-cdn.example.net")
  expect.equal(incident.source_ref, "10.20.4.31>telemetry-cdn.example.net")
  expect.equal(incident.fields.remote_ip, nil)
  expect.equal(incident.fields.remote_domain, "telemetry-cdn.example.net")
  -- Suricata 8 writes dns.queries.
  lookup.dns = { queries = { { rrname = "other-c2.example.org", rrtype = "A" } } }
  expect.equal(suricata.map(lookup).fields.remote_domain, "other-c2.example.org")
end)

test("a C2 name in our resolver's answer is the host's that asked: the resolver is ours too, but on port 53", function()
  local answer = alert("ET MALWARE Cobalt Strike CnC Domain in DNS Response", "Domain Observed Used for C2 Detected", 1,
    nil, { src_ip = "10.20.0.53", src_port = 53, dest_ip = "10.20.4.31", dest_port = 61022, proto = "UDP",
           app_proto = "dns", tls = json.null,
           dns = { version = 2, type = "answer", rrname = "telemetry-cdn.example.net", rrtype = "A" } })

  local incident = suricata.map(answer)

  expect.equal(incident.fields.host_ip, "10.20.4.31")
  expect.equal(incident.source_ref, "10.20.4.31>telemetry-cdn.example.net")
end)

test("between two public addresses, the rule's target is ours; without one, the source", function()
  local inbound = alert("ET MALWARE Reverse shell from server", "A Network Trojan was detected", 1, nil,
    { src_ip = "203.0.113.80", dest_ip = "192.0.2.14" })
  expect.equal(suricata.map(inbound).fields.host_ip, "203.0.113.80")

  inbound.alert.target = { ip = "192.0.2.14", port = 8443 }
  local incident = suricata.map(inbound)
  expect.equal(incident.fields.host_ip, "192.0.2.14")
  expect.equal(incident.fields.remote_ip, "203.0.113.80")
end)

test("IPv6: an address in the unique-local range is ours", function()
  local incident = suricata.map(alert("ET MALWARE Beacon", "A Network Trojan was detected", 1, nil,
    { src_ip = "2001:db8:5::7", dest_ip = "fd12:3456:789a::31" }))

  expect.equal(incident.fields.host_ip, "fd12:3456:789a::31")
  expect.equal(incident.fields.remote_ip, "2001:db8:5::7")
end)

test("any other alert is a suricata_alert, labelled with its category, one per rule and pair of addresses", function()
  local scan = alert("ET SCAN Suspicious inbound to MSSQL port 1433", "Potentially Bad Traffic", 2,
    { signature_severity = { "Minor" } }, { src_ip = "198.51.100.200", dest_ip = "10.20.4.31", dest_port = 1433 })

  local incident = suricata.map(scan)

  expect.equal(incident.type, "suricata_alert")
  expect.equal(incident.title, "ET SCAN Suspicious inbound to MSSQL port 1433 (198.51.100.200 to 10.20.4.31)")
  expect.equal(incident.severity, "low")
  expect.equal(incident.source_ref, "2049417:198.51.100.200>10.20.4.31")
  expect.equal(incident.labels, { "suricata", "potentially-bad-traffic" })
  expect.equal(incident.fields.category, "Potentially Bad Traffic")
end)

test("a beacon of the same host and peer joins the open incident, unless it is worse", function()
  local minor = alert("ET MALWARE Possible beacon", "A Network Trojan was detected", 2)
  local major = suricata.map(BEACON)

  expect.equal(suricata.is_duplicate(suricata.map(minor), major), true)
  expect.equal(suricata.is_duplicate(major, suricata.map(minor)), false)
end)

test("an event other than an alert is refused, saying what the shipper should send", function()
  local ok, problem = pcall(suricata.map, { event_type = "flow", src_ip = "10.20.4.31", dest_ip = "198.51.100.7" })

  expect.equal(ok, false)
  expect.equal(problem, 'not an alert: event_type is "flow"; have the shipper post only event_type "alert"')
end)

test("the C2 playbook blocks the known-bad peer of a mapped alert and asks to contain the host", function()
  stub.intel{ ["198.51.100.7"] = "malicious", ["telemetry-cdn.example.net"] = "unknown" }
  stub.action("checkpoint.block_ip", { status = "done" })
  stub.action("crowdstrike.find_host", { status = "done", result = { device_id = "5e0b8f136c244a9db7e192d4f0a3c658", hostname = "WS-ENG-0142" } })
  stub.chat("Approve crowdstrike.contain_host", "approve", "alice")
  stub.action("crowdstrike.contain_host", { status = "done" })
  stub.task("Find and remove what on WS-ENG-0142", "reimaged")

  local result = run(c2_traffic, suricata.map(BEACON))

  expect.action(result, "checkpoint.block_ip", { ip = "198.51.100.7" })
  expect.action(result, "crowdstrike.contain_host", { device_id = "5e0b8f136c244a9db7e192d4f0a3c658" })
  expect.equal(result.incident.close_reason,
    "C2 traffic from WS-ENG-0142 to 198.51.100.7: host reimaged, 198.51.100.7 blocked for 7d.")
end)
