-- !evidence [INC-12], in the thread of a message or an upload: records that message (its text,
-- its author, and each file's hashes and verdict) on the incident's journal.
local incident_ref = require("lib.incident_ref")

return command {
  name = "evidence",
  usage = "!evidence [INC-12] (in the thread of the message or file to keep)",
  help = "keep the message or file this answers as evidence on the incident",
  run = function(msg, args)
    local id = incident_ref.take(msg, args)
    local kept = msg.replied or (#msg.files > 0 and msg) or nil
    if not id then return msg:reply("Usage: !evidence INC-12, in the thread of the message to keep") end
    if not kept then
      return msg:reply("Reply with !evidence in the thread of the message or upload to keep (or attach the file).")
    end
    local inc = incidents.get(id)
    if not inc then return msg:reply("There is no incident " .. id) end
    local lines = { ("evidence from #%s, %s at %s: %s"):format(msg.channel.name, kept.user.name,
                                                              os.date("!%Y-%m-%d %H:%M:%SZ", math.floor(kept.at)), kept.text) }
    for _, file in ipairs(kept.files) do
      local checked = msg:check(file)
      lines[#lines + 1] = ("file %s: sha256 %s, sha1 %s, md5 %s (%s)"):format(file.name, checked.sha256, checked.sha1,
                                                                              checked.md5, checked.verdict)
    end
    inc:note(table.concat(lines, "\n"))
    msg:reply(("Kept as evidence on %s."):format(id))
  end,
}
