-- Triage of a phishing alert as a standalone script: decode the alert, find its indicators, weigh
-- them, decide. Run it with:
--
--   automator run scripts/examples/triage.lua
--   automator run scripts/examples/triage.lua -- "seen hxxp://evil[.]example/login from 198.51.100.9"
--
-- The arguments, when given, are the alert's text in place of the example's body (`...` holds
-- them, as `arg` does; POST /api/v1/runs passes its "args" the same way).
-- This example needs no configuration, so the known-bad list is a table here; with `--config`,
-- `intel.reputation` asks that file's feeds and integrations, and under `automator serve` a
-- playbook asks it and opens an incident instead (scripts/playbooks/phishing.lua).

local alert = json.decode([[
{
  "id": "ALRT-20261129-0042",
  "source": "mail-gateway",
  "severity": "medium",
  "subject": "Action required: your mailbox is full",
  "sender": "it-support@rnicrosoft-helpdesk.com",
  "received_at": "2026-11-29T02:51:07Z",
  "body": "Dear user, click hxxps://rnicrosoft-helpdesk[.]com/reset?u=jdoe to keep your mail. Sent from 203.0.113.45 via relay 10.0.4.17.",
  "attachments": [
    { "name": "invoice.pdf.exe", "sha256": "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08" }
  ]
}
]])
if select("#", ...) > 0 then alert.body = table.concat({ ... }, " ") end

-- Known-bad indicators a team keeps by hand; under `serve` this is a local feed (docs/playbooks.md).
local blocklist = {
  ["rnicrosoft-helpdesk.com"] = "look-alike of microsoft.com, reported 2026-11-20",
  ["203.0.113.45"] = "sender of 14 phishing mails this month",
}

--- True for addresses that never leave our own networks (RFC 1918).
local function is_private(ip)
  local a, b = ip:match("^(%d+)%.(%d+)")
  a, b = tonumber(a), tonumber(b)
  return a == 10 or (a == 172 and b >= 16 and b <= 31) or (a == 192 and b == 168)
end

local started = time.now()
local findings, score = {}, 0
local function find(kind, value, verdict)
  findings[#findings + 1] = ("%-6s %-44s %s"):format(kind, value, verdict)
end

-- intel.extract reads defanged text (hxxps://, [.]) and gives each indicator once, normalised:
-- lower-case hosts and hashes, a URL's host as a domain of its own.
for _, indicator in ipairs(intel.extract(alert.body)) do
  local reason = blocklist[indicator.value]
  if indicator.type == "ipv4" and is_private(indicator.value) then
    log.debug("skipping internal address", { ip = indicator.value })
  elseif reason then
    score = score + 2
    find(indicator.type, indicator.value, "malicious: " .. reason)
  else
    find(indicator.type, indicator.value, "unknown")
  end
end

for _, attachment in ipairs(alert.attachments) do
  if attachment.name:match("%.%w+%.exe$") then
    score = score + 3
    find("file", attachment.name, "suspicious: double extension")
  end
end

local sender_domain = alert.sender:match("@(.+)$")
if blocklist[sender_domain] then score = score + 1 end

local verdict = score >= 5 and "malicious" or score >= 2 and "suspicious" or "benign"
print(("Alert %s from %s: %q"):format(alert.id, alert.source, alert.subject))
for _, line in ipairs(findings) do print("  " .. line) end
print(("Verdict: %s (score %d) in %.1f ms"):format(verdict, score, (time.now() - started) * 1000))

log.info("triage finished", { alert = alert.id, verdict = verdict })
print(json.encode({ alert = alert.id, verdict = verdict, score = score, findings = #findings }))
