-- Tests of playbooks/phishing.lua. Run them with:
--
--   automator test scripts/playbooks/phishing_test.lua
--
-- Each test gets a new store: the incidents one test opens are not there in the next.

local phishing = require("playbooks.phishing")

--- A report of the look-alike payroll lure; `changes` replaces fields of the incident.
local function report(changes)
  local incident = {
    title = "Reported phishing: Payroll update",
    type = "phishing",
    severity = "medium",
    fields = {
      sender = "payroll@examp1e-hr.test",
      subject = "Payroll update required",
      reported_by = "a.nguyen@example.com",
      message_id = "<20261129074802.4F2A1C@mx1.examp1e-hr.test>",
    },
    details = "Links to hxxps://examp1e-hr[.]test/payroll/confirm?id=88213, sent from 203.0.113.45.",
  }
  for key, value in pairs(changes or {}) do incident[key] = value end
  return incident
end

test("a lure the reporter did not expect is purged, and the incident closed", function()
  stub.task("Confirm with the reporter", "phishing")
  stub.task("Purge the message from all mailboxes", "3 copies removed")

  local result = run(phishing, report())

  expect.note(result, "url    https://examp1e-hr.test/payroll/confirm?id=88213")
  expect.note(result, "ipv4   203.0.113.45")
  expect.note(result, "First report of examp1e-hr.test in 30 days.")
  expect.note(result, "Mail team: 3 copies removed")
  expect.equal(expect.task(result, "Confirm with the reporter").owner, "tier1")
  expect.equal(result.incident.status, "closed")
  expect.equal(result.incident.close_reason, "Phishing: the message was purged from all mailboxes.")
  expect.equal(result.incident.resolution, "true_positive")
end)

test("the reported message is kept as evidence before anything is purged", function()
  stub.task("Confirm with the reporter", "legitimate")

  local message = { from = "payroll@examp1e-hr.test", subject = "Payroll update required", body = "Confirm now." }
  local result = run(phishing, report{ raw = { message = message } })

  expect.equal(#result.evidence, 1)
  expect.equal(result.evidence[1].name, "reported-message.json")
  expect.equal(result.evidence[1].description, "the message as a.nguyen@example.com reported it")
  expect.equal(#run(phishing, report()).evidence, 0, "a report without the message keeps nothing")
end)

test("the report's indicators are noted, defanged or not, but not ours or private addresses", function()
  stub.task("Confirm with the reporter", "phishing")
  stub.task("Purge the message", "done")

  local result = run(phishing, report({
    details = "Also from billing@invoice-portal[.]com via 10.0.4.17, with an attachment whose MD5 is"
      .. " 44d88612fea8a8f36de82e1278abb02f. Our notice: https://intranet.example.com/hr.",
  }))

  expect.note(result, "domain invoice-portal.com")
  expect.note(result, "email  billing@invoice-portal.com")
  expect.note(result, "md5    44d88612fea8a8f36de82e1278abb02f")
  expect.no_note(result, "10.0.4.17")
  expect.no_note(result, "example.com")
end)

test("a look-alike of our own domain raises the severity to high", function()
  stub.task("Confirm with the reporter", "phishing")
  stub.task("Purge the message", "done")

  local result = run(phishing, report())

  expect.equal(result.incident.severity, "high")
  expect.note(result, "examp1e-hr.test imitates our own domain")
end)

test("a message the reporter expected is closed as a false positive, with no purge", function()
  stub.task("Confirm with the reporter", "legitimate")

  local result = run(phishing, report({ fields = { sender = "newsletter@vendor.test" } }))

  expect.equal(result.incident.severity, "medium")
  expect.equal(result.incident.close_reason, "False positive: the reporter expected this message.")
  expect.equal(result.incident.resolution, "false_positive")
  expect.equal(#result.tasks, 1)
end)

test("a third report of one domain within 30 days is a campaign: linked and raised", function()
  incident(report({ fields = { sender = "billing@vendor-invoices.test" } }))
  incident(report({ fields = { sender = "ap@vendor-invoices.test" } }))
  stub.task("Confirm with the reporter", "phishing")
  stub.task("Purge the message", "done")

  local result = run(phishing, report({ fields = { sender = "news@vendor-invoices.test" } }))

  expect.note(result, "vendor-invoices.test seen before in 30 days, now linked: INC-2 (new), INC-1 (new).")
  expect.equal(result.incident.severity, "high")
  expect.note(result, "3 reports of vendor-invoices.test in 30 days")
end)

test("an SLA breached while the reporter is away hands the incident to the duty lead", function()
  -- sla.lua gives a high phishing 2 hours; the reporter answers after 3.
  stub.task("Confirm with the reporter", "phishing", { after = "3h" })
  stub.task("Purge the message", "done")

  local result = run(phishing, report({ severity = "high" }))

  expect.note(result, "SLA breached while owned by")
  expect.equal(result.incident.owner, "soc-lead")
  expect.contains(result.incident.labels, "sla-breached")
end)

test("a confirmed lure's known-bad address is blocked at the firewall once an approver agrees", function()
  stub.intel{ ["203.0.113.45"] = { verdict = "malicious", summary = "malicious: local feed \"bad-ips\"" } }
  stub.task("Confirm with the reporter", "phishing")
  stub.chat("Approve checkpoint.block_ip", "approve", "alice")
  stub.action("checkpoint.block_ip", { status = "done" })
  stub.task("Purge the message", "done")

  local result = run(phishing, report())

  expect.note(result, "203.0.113.45  malicious: local feed \"bad-ips\"")
  expect.note(result, "203.0.113.45 is known malicious")
  expect.equal(result.incident.severity, "high")
  expect.action(result, "checkpoint.block_ip", { ip = "203.0.113.45", reason = "phishing, INC-1" })
  expect.note(result, "203.0.113.45 blocked at the firewall (ACT-test1).")
  expect.equal(result.incident.status, "closed")
end)

test("a block nobody approves is noted, and the purge goes on", function()
  stub.intel{ ["203.0.113.45"] = "malicious" }
  stub.task("Confirm with the reporter", "phishing")
  stub.chat("Approve checkpoint.block_ip", "deny", "bob")
  stub.task("Purge the message", "done")

  local result = run(phishing, report())

  expect.note(result, "203.0.113.45 not blocked at the firewall: denied by bob.")
  expect.task(result, "Purge the message")
end)

test("a message the reporter expected blocks nothing, even from a known-bad address", function()
  stub.intel{ ["203.0.113.45"] = "malicious" }
  stub.task("Confirm with the reporter", "legitimate")

  expect.equal(#run(phishing, report()).actions, 0)
end)
