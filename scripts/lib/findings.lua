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

--- One line for people: "🔴 evil.example: malicious: 2 of 3 sources; ... (seen in INC-12, ...)".
function findings.line(value, verdict, current_incident)
  local line = ("%s `%s`: %s"):format(MARKS[verdict.verdict] or "⚪", value, verdict.summary)
  local seen = findings.seen(value, current_incident)
  if seen then line = line .. " (" .. seen .. ")" end
  return line
end

--- Looks `value` up (of the type `intel.extract` gave it) and answers `msg` with the finding.
function findings.answer(msg, value, type)
  local verdict = intel.reputation(value, type)
  msg:reply(findings.line(value, verdict, msg.incident))
  return verdict
end

--- Hashes and checks a file of a message; returns the line naming it, and the verdict.
function findings.file(msg, file)
  local checked = msg:check(file)
  return ("%s — %s"):format(file.name, findings.line(checked.sha256, checked, msg.incident)), checked
end

return findings
