-- What the bot says about an indicator or a file: the verdict with its reasons, and the past
-- incidents that mention it. Shared by the watcher (commands/watch.lua) and the commands that
-- look things up (!ip, !url, !domain, !hash, !file).

local findings = {}

local MARKS = { malicious = "🔴", suspicious = "🟠", benign = "🟢", unknown = "⚪" }

local DAY = 86400

--- "3 days ago", "today".
local function ago(seconds)
  local days = math.floor((time.now() - seconds) / DAY)
  if days <= 0 then return "today" end
  if days == 1 then return "yesterday" end
  return ("%d days ago"):format(days)
end

--- "seen in INC-12, closed 3 days ago": the latest other incident that mentions `value`, or nil.
function findings.seen(value, current_incident)
  local inc = incidents.seen(value, current_incident)
  if inc == nil then return nil end
  if inc.status == "closed" and inc.closed_at then
    return ("seen in %s, closed %s"):format(inc.id, ago(inc.closed_at))
  end
  return ("seen in %s, %s, opened %s"):format(inc.id, inc.status, ago(inc.created_at))
end

--- One line for people: "🔴 `evil[.]example`: malicious: 2 of 3 sources; ... (seen in INC-12, ...)";
--- a name with A-labels shows its Unicode too: "🟢 `xn--80ak6aa92e[.]com` (`аррӏе[.]com`, mixes
--- Cyrillic and Latin): benign".
function findings.line(value, verdict, current_incident)
  local shown = ("`%s`"):format(intel.defang(value))
  -- A look-alike's A-labels say nothing to people: its Unicode beside them, and its scripts' mix.
  local unicode, mixed = intel.unicode(value)
  if unicode then
    shown = ("%s (`%s`%s)"):format(shown, unicode, mixed and ", mixes " .. mixed or "")
  end
  local line = ("%s %s: %s"):format(MARKS[verdict.verdict] or "⚪", shown, verdict.summary)
  local seen = findings.seen(value, current_incident)
  if seen then line = line .. " (" .. seen .. ")" end
  return line
end

--- The host of a URL as `intel.extract` gives it (`http://user@evil.example:8080/x` → `evil.example`),
--- to match the host's own finding; nil for an IPv6 host, written in brackets.
function findings.host(url)
  local authority = url:match("^%a[%w+.-]*://([^/?#]*)")
  if authority == nil or authority:find("[", 1, true) then return nil end
  return (authority:gsub("^.*@", ""):gsub(":%d*$", ""))
end

--- What a message gives the watcher to check: the indicators of its text and of the links it
--- carries without showing them (`msg.links`: a label in a Matrix message's HTML), each once; for
--- an edit, only those it added, since the text before was checked when it was posted.
function findings.indicators(msg)
  local before = {}
  if msg.edit and msg.edit.previous then
    for _, found in ipairs(intel.extract(msg.edit.previous)) do before[found.type .. " " .. found.value] = true end
  end
  local added = {}
  local text = table.concat({ msg.text, table.unpack(msg.links or {}) }, "\n")
  for _, found in ipairs(intel.extract(text)) do
    if not before[found.type .. " " .. found.value] then added[#added + 1] = found end
  end
  return added
end

-- At most this many lookups for one message, the watcher's and a command's alike: a pasted log
-- should not exhaust the API quotas. Whoever stops there says so, so a long paste never looks clean.
findings.MAX_LOOKUPS = 20

-- The command that looks up each type of indicator the bot checks.
local COMMANDS = { ipv4 = "!ip", ipv6 = "!ip", url = "!url", domain = "!domain", md5 = "!hash", sha1 = "!hash",
                   sha256 = "!hash" }

--- The note for a message with indicators left unchecked (`left`, as `intel.extract` gives them):
--- how many were checked, then those left as commands ready to paste, defanged, one a type:
---   Checked 20 of 23 indicators; the others, to ask about:
---   `!ip 198.51.100[.]21 198.51.100[.]22`
---   `!domain evil-login[.]com`
--- At most MAX_LOOKUPS of them, what one more command checks, and how many come after.
function findings.unchecked(checked, left)
  local shown = math.min(#left, findings.MAX_LOOKUPS)
  local commands, values = {}, {}
  for i = 1, shown do
    local command = COMMANDS[left[i].type]
    if values[command] == nil then
      commands[#commands + 1] = command
      values[command] = {}
    end
    table.insert(values[command], intel.defang(left[i].value))
  end
  local which = shown < #left and ("the next %d"):format(shown) or "the others"
  local lines = { ("Checked %d of %d indicators; %s, to ask about:"):format(checked, checked + #left, which) }
  for _, command in ipairs(commands) do
    lines[#lines + 1] = ("`%s %s`"):format(command, table.concat(values[command], " "))
  end
  if shown < #left then lines[#lines + 1] = ("and %d more after those."):format(#left - shown) end
  return table.concat(lines, "\n")
end

--- The integrations that rest after their service failed (a 429, a timeout), as `verdicts` (from
--- `intel.reputations`) tell it: not asked, or failing in this very lookup. Each once:
---   { source = "VirusTotal", since = 1764556740.2, ends = 1764556800.2 }
--- `since` stays the same while the service keeps failing: one pause, however many probes fail.
function findings.paused(verdicts)
  local paused, seen = {}, {}
  for _, verdict in ipairs(verdicts) do
    for _, source in ipairs(verdict.sources) do
      if source.paused_since and not seen[source.source] then
        seen[source.source] = true
        paused[#paused + 1] = { source = source.source, since = source.paused_since, ends = source.paused_until }
      end
    end
  end
  return paused
end

--- The note for a channel that hears only what is malicious, while `paused` (one of
--- `findings.paused`) is not asked: without it, what that integration would have flagged passes
--- in silence and the channel believes it was checked.
---   ⏸️ VirusTotal is not checking what is posted here until 21:06 UTC: its service failed and it
---   rests.
function findings.paused_note(paused)
  -- Rounded up to the minute (os.date takes whole seconds), so that it never reads as past already.
  local ends = os.date("!%H:%M", math.floor(paused.ends) + 59)
  -- Nothing said of the other sources: this one may be the only one set up for the indicator.
  return ("⏸️ %s is not checking what is posted here until %s UTC: its service failed and it rests.")
    :format(paused.source, ends)
end

--- Looks up each indicator of `text` whose type (as `intel.extract` gives it) is in `wanted`, and
--- answers `msg` with a line for each, up to MAX_LOOKUPS, then the note of those left. Returns how
--- many it found: 0 means there was nothing to look up (the caller says how to ask).
function findings.answer_each(msg, text, wanted)
  local checked, left = {}, {}
  for _, each in ipairs(intel.extract(text)) do
    if wanted[each.type] then
      if #checked < findings.MAX_LOOKUPS then checked[#checked + 1] = each else left[#left + 1] = each end
    end
  end
  local found = #checked + #left
  -- All at once, as the watcher does: a service that is down is waited for once.
  local lines = {}
  for i, verdict in ipairs(intel.reputations(checked)) do
    lines[i] = findings.line(checked[i].value, verdict, msg.incident)
  end
  if #left > 0 then lines[#lines + 1] = findings.unchecked(#checked, left) end
  if found > 0 then msg:reply(table.concat(lines, "\n"), { journal = true }) end
  return found
end

--- Hashes and checks a file of a message; returns the line naming it, and the verdict.
function findings.file(msg, file)
  local checked = msg:check(file)
  return ("%s — %s"):format(intel.defang(file.name), findings.line(checked.sha256, checked, msg.incident)), checked
end

return findings
