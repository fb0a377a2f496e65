-- Tests of playbooks/c2_traffic.lua. Run them with:
--
--   automator test scripts/playbooks/c2_traffic_test.lua

local c2_traffic = require("playbooks.c2_traffic")

local DEVICE = "5e0b8f136c244a9db7e192d4f0a3c658"

--- Beacons from 10.20.4.31 to 198.51.100.7 (telemetry-cdn.example.net), matched by a rule of high
--- confidence; `fields` replaces some fields.
local function beacons(fields)
  local incident = {
    title = "C2 traffic from 10.20.4.31 to 198.51.100.7",
    type = "c2_traffic",
    severity = "medium",
    fields = {
      host_ip = "10.20.4.31", remote_ip = "198.51.100.7", remote_domain = "telemetry-cdn.example.net",
      signature = "ET MALWARE Cobalt Strike Beacon Domain in TLS SNI", signature_id = 2049417,
      category = "Malware Command and Control Activity Detected", confidence = "high",
    },
    raw = { event_type = "alert", src_ip = "10.20.4.31", dest_ip = "198.51.100.7", flow_id = 1385720193264751 },
  }
  for key, value in pairs(fields or {}) do incident.fields[key] = value end
  return incident
end

--- Falcon knows 10.20.4.31 as WS-ENG-0142.
local function falcon_finds_the_host()
  stub.action("crowdstrike.find_host", { status = "done", result = {
    device_id = DEVICE, hostname = "WS-ENG-0142", last_seen = "2026-01-05T08:58:12Z", status = "normal",
  } })
end

--- The way of a peer cut off: the block done, the host found in Falcon, alice's yes to its
--- containment, the containment done, and tier 2's "cleaned".
local function cut_off()
  stub.action("checkpoint.block_ip", { status = "done" })
  falcon_finds_the_host()
  stub.chat("Approve crowdstrike.contain_host", "approve", "alice")
  stub.action("crowdstrike.contain_host", { status = "done" })
  stub.task("Find and remove what on WS-ENG-0142", "cleaned")
end

test("a known-bad peer is blocked for a week at once, and the host contained once an approver agrees", function()
  stub.intel{
    ["198.51.100.7"] = { verdict = "malicious", summary = 'malicious: local feed "bad-ips" (C2 range of the Acme campaign)' },
    ["telemetry-cdn.example.net"] = "unknown",
  }
  stub.action("checkpoint.block_ip", { status = "done" })
  falcon_finds_the_host()
  stub.chat("Approve crowdstrike.contain_host", "approve", "alice")
  stub.action("crowdstrike.contain_host", { status = "done" })
  stub.task("Find and remove what on WS-ENG-0142 talks to 198.51.100.7", "reimaged")

  local result = run(c2_traffic, beacons())

  expect.note(result, "ET MALWARE Cobalt Strike Beacon Domain in TLS SNI (sid 2049417, Malware Command and Control"
    .. " Activity Detected): 10.20.4.31 talks to 198.51.100.7 (telemetry-cdn.example.net).")
  expect.note(result, 'Reputation of 198.51.100.7: malicious: local feed "bad-ips" (C2 range of the Acme campaign)')
  expect.equal(result.incident.severity, "high")
  expect.equal(#result.evidence, 1)
  expect.equal(result.evidence[1].name, "alert.json")

  -- The block: the playbook's standing approval, lifted by itself a week later.
  local block = expect.action(result, "checkpoint.block_ip", { ip = "198.51.100.7", reason = "C2 of 10.20.4.31, INC-1" })
  expect.equal(block.question, nil)
  expect.note(result, "198.51.100.7 blocked at the firewall for 7d (ACT-test1).")
  expect.journal(result, "its undo runs by itself at 2026-01-12T09:00:00.000Z (ttl 1w)")

  -- The containment: the host as Falcon knows it, and only after alice's yes.
  expect.action(result, "crowdstrike.find_host", { ip = "10.20.4.31" })
  expect.note(result, "10.20.4.31 is WS-ENG-0142 in the EDR (device " .. DEVICE .. ", last seen 2026-01-05T08:58:12Z).")
  expect.equal(result.incident.fields.host, "WS-ENG-0142")
  local containment = expect.action(result, "crowdstrike.contain_host", { device_id = DEVICE })
  expect.equal(result.questions[1].id, containment.question)
  expect.contains(result.questions[1].text, "Approve crowdstrike.contain_host device_id=" .. DEVICE)
  expect.note(result, "Host WS-ENG-0142 contained by the EDR (ACT-test3).")

  -- Tier 2 cleans the host; the containment is lifted then, the block stays its week.
  local cleanup = expect.task(result, "Find and remove what on WS-ENG-0142 talks to 198.51.100.7")
  expect.equal(cleanup.owner, "tier2")
  expect.equal(cleanup.due, time.now() + 4 * 3600)
  expect.contains(cleanup.description, "Automator lifts the EDR's containment when this task is done.")
  expect.equal(expect.action(result, "crowdstrike.contain_host").undone, true)
  expect.equal(expect.action(result, "checkpoint.block_ip").undone, nil)
  expect.note(result, "Containment of WS-ENG-0142 lifted (ACT-test3).")
  expect.equal(#result.tasks, 1)
  expect.equal(result.incident.close_reason,
    "C2 traffic from WS-ENG-0142 to 198.51.100.7: host reimaged, 198.51.100.7 blocked for 7d.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("an unknown peer of a rule sure of itself is cut off without waiting for tier 1", function()
  stub.intel{ ["198.51.100.7"] = "unknown", ["telemetry-cdn.example.net"] = "unknown" }
  cut_off()

  local result = run(c2_traffic, beacons())

  expect.equal(result.incident.severity, "medium")
  expect.action(result, "checkpoint.block_ip", { ip = "198.51.100.7" })
  expect.action(result, "crowdstrike.contain_host", { device_id = DEVICE })
  expect.equal(#result.tasks, 1)
end)

test("an EDR alert that names the host's device contains it by that id, with no lookup", function()
  stub.intel{ ["198.51.100.7"] = "unknown", ["telemetry-cdn.example.net"] = "unknown" }
  stub.action("checkpoint.block_ip", { status = "done" })
  stub.chat("Approve crowdstrike.contain_host", "approve", "alice")
  stub.action("crowdstrike.contain_host", { status = "done" })
  stub.task("Find and remove what on WS-ENG-0142", "cleaned")

  local result = run(c2_traffic, beacons({ host = "WS-ENG-0142", device_id = DEVICE }))

  expect.action(result, "crowdstrike.contain_host", { device_id = DEVICE })
  expect.equal(#result.actions, 2, "the block and the containment; no find_host")
  expect.note(result, "Host WS-ENG-0142 contained by the EDR (ACT-test2).")
end)

test("a peer other hosts talked to makes a campaign: linked, critical, and named for tier 2", function()
  -- Two hosts seen before, one reaching the peer by its address, one by its name; and a third host
  -- with a peer of its own.
  local open = incident(beacons({ host_ip = "10.20.7.9", host = "WS-FIN-0007", remote_ip = "203.0.113.50" }))
  local closed = incident(beacons({ host_ip = "10.20.8.1", remote_ip = "203.0.113.51" }))
  closed:close{ reason = "host reimaged" }
  incident(beacons({ host_ip = "10.20.9.2", remote_ip = "203.0.113.99", remote_domain = "other.example.org" }))
  stub.intel{ ["198.51.100.7"] = "unknown", ["telemetry-cdn.example.net"] = "unknown" }
  cut_off()

  local result = run(c2_traffic, beacons({ remote_ip = "203.0.113.50" }))

  local known = ("WS-FIN-0007 (%s, new), 10.20.8.1 (%s, closed)"):format(open.id, closed.id)
  expect.note(result, ("Other hosts talked to 203.0.113.50 in the last 30 days, now linked: %s."):format(known))
  expect.journal(result, "linked to " .. open.id)
  expect.journal(result, "linked to " .. closed.id)
  expect.equal(result.incident.severity, "critical")
  expect.contains(expect.task(result, "Find and remove what on WS-ENG-0142").description,
    ("whether other hosts talk to 203.0.113.50 (known already: %s)"):format(known))
end)

test("a host's own earlier incident with the peer is no campaign", function()
  incident(beacons())
  stub.intel{ ["198.51.100.7"] = "unknown", ["telemetry-cdn.example.net"] = "unknown" }
  stub.action("checkpoint.block_ip", { status = "done" })
  stub.action("crowdstrike.find_host", { status = "failed", result = "the API answered 500" })
  stub.task("Isolate", "isolated")
  stub.task("Find and remove what on 10.20.4.31", "cleaned")

  local result = run(c2_traffic, beacons())

  expect.no_journal(result, "Other hosts talked to")
  expect.equal(result.incident.severity, "medium")
end)

test("a benign peer goes to tier 1 with the alert as evidence, and nothing is blocked or contained", function()
  stub.intel{ ["198.51.100.7"] = "benign", ["telemetry-cdn.example.net"] = "benign" }
  stub.task("Review the C2 alert: 10.20.4.31 to 198.51.100.7", "false positive")

  local result = run(c2_traffic, beacons())

  expect.equal(#result.actions, 0)
  local review = expect.task(result, "Review the C2 alert")
  expect.equal(review.owner, "tier1")
  expect.contains(review.description, "Nothing was blocked or contained: the feeds call 198.51.100.7 benign.")
  expect.contains(review.description, ("(the alert is evidence %s)"):format(result.evidence[1].id))
  expect.equal(result.incident.close_reason, "False positive: ET MALWARE Cobalt Strike Beacon Domain in TLS SNI"
    .. " (sid 2049417, Malware Command and Control Activity Detected), from 10.20.4.31 to 198.51.100.7.")
  expect.equal(result.incident.resolution, "false_positive")
end)

test("a name the feeds clear sends even a rule sure of itself to tier 1, naming that name", function()
  stub.intel{ ["198.51.100.7"] = "unknown", ["telemetry-cdn.example.net"] = "benign" }
  stub.task("Review the C2 alert", "false positive")

  local result = run(c2_traffic, beacons())

  expect.equal(#result.actions, 0)
  expect.contains(expect.task(result, "Review the C2 alert").description,
    "Nothing was blocked or contained: the feeds call telemetry-cdn.example.net benign.")
  expect.equal(result.incident.status, "closed")
end)

test("an unknown peer of a rule of low confidence waits for tier 1, whose yes cuts it off", function()
  stub.intel{ ["198.51.100.7"] = "unknown", ["telemetry-cdn.example.net"] = "unknown" }
  stub.task("Review the C2 alert", "C2")
  cut_off()

  local result = run(c2_traffic, beacons({ confidence = "low" }))

  expect.contains(expect.task(result, "Review the C2 alert").description,
    "Nothing was blocked or contained: the rule's confidence is low and no feed calls 198.51.100.7 malicious.")
  expect.note(result, "tier 1 confirmed the C2 traffic")
  expect.equal(result.incident.severity, "high")
  expect.action(result, "checkpoint.block_ip", { ip = "198.51.100.7" })
  expect.action(result, "crowdstrike.contain_host", { device_id = DEVICE })
  expect.equal(result.incident.close_reason,
    "C2 traffic from WS-ENG-0142 to 198.51.100.7: host cleaned, 198.51.100.7 blocked for 7d.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("an approver's no leaves the isolation to tier 2, with why; the block stands", function()
  stub.intel{ ["198.51.100.7"] = "malicious", ["telemetry-cdn.example.net"] = "unknown" }
  stub.action("checkpoint.block_ip", { status = "done" })
  falcon_finds_the_host()
  stub.chat("Approve crowdstrike.contain_host", "deny", "bob")
  stub.task("Isolate host WS-ENG-0142", "isolated")
  stub.task("Find and remove what on WS-ENG-0142", "cleaned")

  local result = run(c2_traffic, beacons())

  expect.action(result, "checkpoint.block_ip", { ip = "198.51.100.7" })
  local isolate = expect.task(result, "Isolate host WS-ENG-0142")
  expect.equal(isolate.owner, "tier2")
  expect.contains(isolate.description, "Automatic containment: denied by bob.")
  expect.note(result, "Isolation of WS-ENG-0142: isolated.")
  expect.contains(expect.task(result, "Find and remove").description, "Release the host from isolation once it is clean.")
  expect.equal(result.incident.status, "closed")
end)

test("with Falcon not set up, tier 2 isolates the host by its address, and says why", function()
  stub.intel{ ["198.51.100.7"] = "malicious", ["telemetry-cdn.example.net"] = "unknown" }
  stub.action("checkpoint.block_ip", { status = "done" })
  stub.action("crowdstrike.find_host", false, "the integration crowdstrike is not set up")
  stub.task("Isolate host 10.20.4.31", "isolated")
  stub.task("Find and remove what on 10.20.4.31", "reimaged")

  local result = run(c2_traffic, beacons())

  expect.equal(#result.questions, 0)
  expect.contains(expect.task(result, "Isolate host 10.20.4.31").description,
    "Automatic containment: the integration crowdstrike is not set up.")
  expect.equal(result.incident.close_reason,
    "C2 traffic from 10.20.4.31 to 198.51.100.7: host reimaged, 198.51.100.7 blocked for 7d.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("a C2 name behind an address the feeds clear (a CDN's) contains the host, and blocks no one else's address", function()
  stub.intel{ ["198.51.100.7"] = "benign", ["telemetry-cdn.example.net"] = "malicious" }
  falcon_finds_the_host()
  stub.chat("Approve crowdstrike.contain_host", "approve", "alice")
  stub.action("crowdstrike.contain_host", { status = "done" })
  stub.task("Find and remove what on WS-ENG-0142", "cleaned")

  local result = run(c2_traffic, beacons())

  expect.no_journal(result, "checkpoint.block_ip")
  expect.note(result, "198.51.100.7 not blocked at the firewall: the feeds call it benign, a shared address (a CDN's,"
    .. " a partner's) where blocking hurts others.")
  expect.action(result, "crowdstrike.contain_host", { device_id = DEVICE })
  expect.equal(result.incident.close_reason, "C2 traffic from WS-ENG-0142 to 198.51.100.7: host cleaned.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("a peer in a protected network is not blocked, and the host is contained all the same", function()
  stub.intel{ ["10.31.0.9"] = "malicious" }
  stub.action("checkpoint.block_ip", false, "ip 10.31.0.9 is in the protected network 10.0.0.0/8")
  falcon_finds_the_host()
  stub.chat("Approve crowdstrike.contain_host", "approve", "alice")
  stub.action("crowdstrike.contain_host", { status = "done" })
  stub.task("Find and remove what on WS-ENG-0142", "cleaned")

  local result = run(c2_traffic, beacons({ remote_ip = "10.31.0.9", remote_domain = json.null }))

  expect.note(result, "10.31.0.9 not blocked at the firewall: ip 10.31.0.9 is in the protected network 10.0.0.0/8.")
  expect.action(result, "crowdstrike.contain_host", { device_id = DEVICE })
  expect.equal(result.incident.close_reason, "C2 traffic from WS-ENG-0142 to 10.31.0.9: host cleaned.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("a C2 name looked up in DNS blocks no address: the resolver is not the C2 server", function()
  stub.intel{ ["telemetry-cdn.example.net"] = "malicious" }
  falcon_finds_the_host()
  stub.chat("Approve crowdstrike.contain_host", "approve", "alice")
  stub.action("crowdstrike.contain_host", { status = "done" })
  stub.task("Find and remove what on WS-ENG-0142 talks to telemetry-cdn.example.net", "cleaned")

  local result = run(c2_traffic, beacons({ remote_ip = json.null }))

  expect.no_journal(result, "checkpoint.block_ip")
  expect.note(result, "No address blocked at the firewall: the alert is a DNS lookup, whose peer is a name. Block the"
    .. " name at the resolver or the proxy.")
  expect.equal(result.incident.close_reason, "C2 traffic from WS-ENG-0142 to telemetry-cdn.example.net: host cleaned.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("an alert with no peer goes to tier 1", function()
  local result = run(c2_traffic, beacons({ remote_ip = json.null, remote_domain = json.null }))

  expect.note(result, "The alert names no host of ours or no remote peer: review it by hand.")
  expect.equal(result.incident.owner, "tier1")
  expect.equal(#result.actions, 0)
end)
