-- The channel watcher: every IP, URL, domain and hash posted in a channel the bot watches (and
-- in a direct message to it), and every file uploaded there, is checked. In a verbose channel
-- each result is answered in the message's thread; elsewhere only the malicious ones, a note
-- when a long message had more indicators than one message may look up, and one, once a pause,
-- when an integration rests after its service failed and checks nothing posted there meanwhile.
-- A link's target is checked even where only its label shows; an edited message is checked
-- again for what the edit added, answered in the same thread.
--
-- `join #soc` in a direct message to the bot makes it watch #soc; `verbose on #soc` makes it
-- answer every finding there.
local findings = require("lib.findings")

-- The indicator types worth a lookup: e-mail addresses and CVEs are not judged by reputation.
local CHECKED = { ipv4 = true, ipv6 = true, url = true, domain = true, md5 = true, sha1 = true, sha256 = true }

return watch {
  run = function(msg, options)
    local lines, worst = {}, "unknown"
    local function report(line, verdict)
      if options.verbose or verdict.verdict == "malicious" then lines[#lines + 1] = line end
      if verdict.verdict == "malicious" then worst = "malicious" end
    end

    -- At most findings.MAX_LOOKUPS lookups a message, as for a command: a pasted log should not
    -- exhaust the API quotas. The answer names those left unchecked, so a long paste never looks
    -- clean and the rest is one paste away.
    local checked, left = {}, {}
    for _, found in ipairs(findings.indicators(msg)) do
      if CHECKED[found.type] then
        if #checked < findings.MAX_LOOKUPS then checked[#checked + 1] = found else left[#left + 1] = found end
      end
    end
    -- All at once: a service that is down costs the message one wait, not one per indicator.
    local verdicts, of = intel.reputations(checked), {}
    for i, found in ipairs(checked) do of[found.value] = verdicts[i] end
    -- A URL whose host the message names too is answered once, with the host's verdict when the
    -- host is what is known: an "unknown" URL right above its host's red line, or the same verdict
    -- twice, is noise. A URL judged worse than its host keeps both lines.
    local told = {}
    for i, found in ipairs(checked) do
      local host = found.type == "url" and findings.host(found.value)
      local known = host and of[host]
      if known and known.verdict ~= "unknown" then
        if verdicts[i].verdict == "unknown" then
          verdicts[i] = { verdict = known.verdict, summary = ("its host %s is %s"):format(intel.defang(host), known.summary) }
        end
        if verdicts[i].verdict == known.verdict then told[host] = true end
      end
    end
    for i, found in ipairs(checked) do
      if not told[found.value] then report(findings.line(found.value, verdicts[i], msg.incident), verdicts[i]) end
    end
    for _, file in ipairs(msg.files) do
      -- A file that cannot be checked (too large, not Slack's) must not cost the message's other
      -- findings, nor pass for clean: say so, in a quiet channel too.
      local ok, line, verdict = pcall(findings.file, msg, file)
      if ok then
        report(line, verdict)
      else
        local reason = tostring(line):gsub("^.-:%d+: ", ""):gsub("^chat%.check: ", "")
        lines[#lines + 1] = ("⚠️ %s was not checked: %s"):format(file.name, reason)
      end
    end

    -- Said in a quiet channel too: there, no answer reads as "nothing bad in it".
    if #left > 0 then lines[#lines + 1] = findings.unchecked(#checked, left) end
    -- Nor may an integration's pause pass for a check: a quiet channel hears it once a pause (a
    -- verbose one reads it in every line's "not asked").
    if not options.verbose then
      for _, paused in ipairs(findings.paused(verdicts)) do
        if msg:once(("paused %s %.3f"):format(paused.source, paused.since)) then
          lines[#lines + 1] = findings.paused_note(paused)
        end
      end
    end

    -- In a war room the verdicts join the incident's journal: what the team acted on.
    if #lines > 0 then msg:reply(table.concat(lines, "\n"), { journal = true }) end
    if worst == "malicious" then msg:react("rotating_light") end
  end,
}
