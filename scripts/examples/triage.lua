-- Triage of a phishing alert, with what the Lua host offers today: json, log, time and
-- standard Lua. Run it with:
--
--   automator run scripts/examples/triage.lua
--
-- Threat-intel lookups, incidents and tasks come with the next modules; this script shows
-- the shape a playbook step takes: decode the alert, find the indicators, weigh them, decide.

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

-- Known-bad indicators a team keeps by hand (a local feed, in a later version).
local blocklist = {
  ["rnicrosoft-helpdesk.com"] = "look-alike of microsoft.com, reported 2026-11-20",
  ["203.0.113.45"] = "sender of 14 phishing mails this month",
}

--- Undoes the defanging analysts use to make links unclickable.
local function refang(text)
  return (text:gsub("hxxp", "http"):gsub("%[%.%]", "."))
end

--- Finds URLs, their host names, and IPv4 addresses in free text.
local function indicators(text)
  local found, seen = {}, {}
  local function add(kind, value)
    if not seen[value] then
      seen[value] = true
      found[#found + 1] = { kind = kind, value = value }
    end
  end
  for url in text:gmatch("https?://[%w%-%.]+[^%s]*") do
    add("url", url)
    add("domain", url:match("^https?://([^/:?]+)"):lower())
  end
  for a, b, c, d in text:gmatch("(%d+)%.(%d+)%.(%d+)%.(%d+)") do
    local octets = { tonumber(a), tonumber(b), tonumber(c), tonumber(d) }
    local valid = true
    for _, octet in ipairs(octets) do valid = valid and octet <= 255 end
    if valid then add("ipv4", table.concat(octets, ".")) end
  end
  return found
end

--- True for addresses that never leave our own networks (RFC 1918).
local function is_private(ip)
  local a, b = ip:match("^(%d+)%.(%d+)")
  a, b = tonumber(a), tonumber(b)
  return a == 10 or (a == 172 and b >= 16 and b <= 31) or (a == 192 and b == 168)
end

local started = time.now()
local findings, score = {}, 0
for _, indicator in ipairs(indicators(refang(alert.body))) do
  local reason = blocklist[indicator.value]
  if indicator.kind == "ipv4" and is_private(indicator.value) then
    log.debug("skipping internal address", { ip = indicator.value })
  elseif reason then
    score = score + 2
    findings[#findings + 1] = ("%-6s %-40s malicious: %s"):format(indicator.kind, indicator.value, reason)
  else
    findings[#findings + 1] = ("%-6s %-40s unknown"):format(indicator.kind, indicator.value)
  end
end

for _, attachment in ipairs(alert.attachments) do
  if attachment.name:match("%.%w+%.exe$") then
    score = score + 3
    findings[#findings + 1] = ("%-6s %-40s suspicious: double extension"):format("file", attachment.name)
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
