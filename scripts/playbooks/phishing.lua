-- Phishing triage for an e-mail a user reported. Pulls the indicators out of the report and
-- asks the feeds and integrations about them, looks for earlier reports of the sender's domain,
-- raises the severity for a known-bad indicator, a look-alike domain or a campaign, then has
-- tier 1 confirm with the reporter. A confirmed lure's known-bad addresses are blocked at the
-- firewall once an approver agrees, where Check Point is set up
-- (scripts/integrations/checkpoint.lua), and the mail team purges the message. Try it with:
--
--   automator run scripts/playbooks/phishing.lua --incident scripts/examples/incidents/phishing.json \
--       --config scripts/examples/automator.yml
--
-- It reads fields.sender, fields.subject, fields.reported_by and fields.message_id, and the
-- reported message in `raw`. Its SLA comes from scripts/sla.lua.

-- Our own mail domains: their addresses are not indicators, and imitations of them are look-alikes.
local OWN_DOMAINS = { "example.com" }

-- Reports of one sender domain within 30 days, this one included, that make a campaign.
local CAMPAIGN_REPORTS = 3

-- The firewall's block of an address: another firewall's integration goes here.
local BLOCK_ADDRESS = "checkpoint.block_ip"

local respond = require("lib.respond")
local is_private = require("lib.addresses").internal

-- Characters that phishers swap in for look-alike letters.
local HOMOGLYPHS = { ["0"] = "o", ["1"] = "l", ["3"] = "e", ["5"] = "s" }

--- True when `domain` is one of ours or a subdomain of one.
local function is_own(domain)
  for _, own in ipairs(OWN_DOMAINS) do
    if domain == own or domain:sub(-#own - 1) == "." .. own then return true end
  end
  return false
end

--- The registered name of a domain, look-alike characters undone: "mx.examp1e-hr.test" gives
--- "example-hr". Two-part suffixes such as .co.uk would need a public suffix list.
local function brand(domain)
  local name = domain:match("([^.]+)%.[^.]+$") or domain
  return (name:gsub("rn", "m"):gsub("vv", "w"):gsub("[0135]", HOMOGLYPHS))
end

--- True when `domain` is not ours but reads as ours ("examp1e.com"), or as ours and a word
--- ("example-hr.net").
local function looks_like_own(domain)
  if is_own(domain) then return false end
  local name = brand(domain)
  for _, own in ipairs(OWN_DOMAINS) do
    local ours = brand(own)
    if name == ours or name:sub(1, #ours + 1) == ours .. "-" or name:sub(-#ours - 1) == "-" .. ours then
      return true
    end
  end
  return false
end

--- Appends every string in a decoded JSON value, at any depth, to `out`.
local function collect_strings(value, out)
  if type(value) == "string" then
    out[#out + 1] = value
  elseif type(value) == "table" then
    for _, item in pairs(value) do collect_strings(item, out) end
  end
  return out
end

--- The indicators in `text` but our own and private addresses, sorted. `intel.extract` reads
--- defanged text (hxxps://, [.]) and keeps a domain only under a real public suffix, so names
--- under `.test` (the example's) are found in URLs only.
local function indicators(text)
  local found = {}
  for _, indicator in ipairs(intel.extract(text)) do
    local host = indicator.type == "url" and indicator.value:match("^%a+://([^/:?#]+)")
      or indicator.type == "email" and indicator.value:match("@(.+)$")
      or indicator.value
    local private = indicator.type == "ipv4" and is_private(indicator.value)
    if not private and not is_own(host:lower()) then
      found[#found + 1] = { kind = indicator.type, value = indicator.value }
    end
  end
  -- `pairs` walks `raw` in a different order on each run: sorting keeps the note the same
  -- when a durable run is replayed.
  table.sort(found, function(x, y)
    if x.kind ~= y.kind then return x.kind < y.kind end
    return x.value < y.value
  end)
  return found
end

--- Notes what the feeds and integrations say of `found`, asked at once; returns the malicious
--- ones. With no source to ask (a trial or a command given no configuration) the triage goes on
--- without them, and says so.
local function known_bad(inc, found)
  if #found == 0 then return {} end
  local values = {}
  for i, indicator in ipairs(found) do values[i] = indicator.value end
  local asked, verdicts = pcall(intel.reputations, values)
  if not asked then
    inc:note("Reputation not checked: " .. tostring(verdicts))
    return {}
  end
  local malicious, lines = {}, { "Reputation:" }
  for i, indicator in ipairs(found) do
    lines[#lines + 1] = ("  %s  %s"):format(indicator.value, verdicts[i].summary)
    if verdicts[i].verdict == "malicious" then malicious[#malicious + 1] = indicator end
  end
  inc:note(table.concat(lines, "\n"))
  return malicious
end

--- Links the incidents of the last 30 days that mention `domain`; returns "INC-7 (closed)" for each.
local function earlier_reports(inc, domain)
  local earlier = {}
  -- By text, not `indicator = domain`: the domain is taken from the sender's address as written,
  -- and the index holds only names extraction accepts (under a public suffix, not `.test`).
  for _, other in ipairs(incidents.find{ text = domain, since = "30d", limit = 20 }) do
    -- The search finds this incident too.
    if other.id ~= inc.id then
      inc:link(other)
      earlier[#earlier + 1] = ("%s (%s)"):format(other.id, other.status)
    end
  end
  return earlier
end

return playbook {
  name = "Phishing triage",
  match = { type = "phishing" },

  run = function(inc)
    local sender = inc.fields.sender or "an unknown sender"
    local subject = inc.fields.subject or "(no subject)"
    local reporter = inc.fields.reported_by or "the reporter"
    local sender_domain = sender:match("@([%w.-]+)")
    sender_domain = sender_domain and sender_domain:lower()

    local texts = collect_strings(inc.raw, { inc.details or "" })
    local found = indicators(table.concat(texts, "\n"))
    local lines = { #found > 0 and ("Indicators (%d):"):format(#found) or "No indicators found." }
    for _, indicator in ipairs(found) do
      lines[#lines + 1] = ("  %-6s %s"):format(indicator.kind, indicator.value)
    end
    inc:note(table.concat(lines, "\n"))
    local malicious = known_bad(inc, found)
    if #malicious > 0 then
      inc:raise("high", ("%s is known malicious"):format(malicious[1].value))
    end

    -- The message as reported is what the purge and any later case rest on: kept, hashed and in
    -- its chain of custody before a copy is deleted.
    if type(inc.raw) == "table" and inc.raw.message then
      inc:evidence{
        name = "reported-message.json",
        data = json.encode(inc.raw.message),
        description = "the message as " .. reporter .. " reported it",
        tags = { "phishing", "reported" },
      }
    end

    if sender_domain then
      local earlier = earlier_reports(inc, sender_domain)
      if #earlier > 0 then
        inc:note(("%s seen before in 30 days, now linked: %s.")
          :format(sender_domain, table.concat(earlier, ", ")))
      else
        inc:note(("First report of %s in 30 days."):format(sender_domain))
      end
      if looks_like_own(sender_domain) then
        inc:raise("high", sender_domain .. " imitates our own domain")
      end
      if #earlier + 1 >= CAMPAIGN_REPORTS then
        inc:raise("high", ("%d reports of %s in 30 days"):format(#earlier + 1, sender_domain))
      end
    else
      inc:note("No sender address in the report: earlier reports not searched.")
    end

    local confirm = inc:task{
      title = "Confirm with the reporter",
      owner = "tier1",
      due = "2h",
      description = ('Ask %s whether they expected "%s" from %s. If they did not, or are unsure,'
        .. " answer phishing."):format(reporter, subject, sender),
      choices = { "phishing", "legitimate" },
    }
    -- Anything but a clear "legitimate" counts as phishing: purging a real mail costs less
    -- than leaving a live lure in the mailboxes.
    if confirm:wait() == "legitimate" then
      inc:close{ reason = "False positive: the reporter expected this message.", resolution = "false_positive" }
      return
    end

    -- The addresses a confirmed lure came from or points to, where the feeds know them as bad.
    for _, indicator in ipairs(malicious) do
      if indicator.kind == "ipv4" or indicator.kind == "ipv6" then
        local blocked, why = respond.act(BLOCK_ADDRESS, { ip = indicator.value, reason = "phishing, " .. inc.id }, inc)
        inc:note(blocked and ("%s blocked at the firewall (%s)."):format(indicator.value, respond.label(blocked))
          or ("%s not blocked at the firewall: %s."):format(indicator.value, why))
      end
    end

    local purge = inc:task{
      title = "Purge the message from all mailboxes",
      owner = "mail-team",
      due = "1h",
      description = ('Remove every copy of Message-ID %s (from %s, subject "%s") and block the sender'
        .. " at the gateway. Answer with the number of copies removed.")
        :format(inc.fields.message_id or "unknown", sender, subject),
    }
    local purged = purge:wait()
    inc:note("Mail team: " .. (purged ~= "" and purged or "purged, no details given."))
    inc:close{ reason = "Phishing: the message was purged from all mailboxes.", resolution = "true_positive" }
  end,

  -- Replaces the global hook (scripts/hooks/sla_breach.lua) for phishing: hand the incident
  -- to the duty lead, and label it like the hook does so that every breach shows in reports.
  on_sla_breach = function(inc)
    inc:note(("SLA breached while owned by %s: escalated to the SOC duty lead.")
      :format(inc.owner or "no one"))
    inc:update{ owner = "soc-lead" }
    inc:label("sla-breached")
  end,
}
