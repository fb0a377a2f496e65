-- !evidence [INC-12], in the thread of a message or an upload: keeps that message (as text, with
-- who wrote it, where and when) and each of its files as evidence on the incident, hashed and in
-- its chain of custody. The seed's one-click evidence. In the terminal (automator chat), a path
-- attaches a local file (`!evidence INC-12 /path/to/file`), and the line after `!file PATH` or
-- `/file PATH` answers that upload.
local incident_ref = require("lib.incident_ref")

return command {
  name = "evidence",
  usage = "!evidence [INC-12] (in the thread of the message or file to keep; in the terminal: !evidence INC-12 PATH)",
  help = "keep the message or file this answers as evidence on the incident",
  roles = { "analyst" },
  run = function(msg, args)
    local id = incident_ref.take(msg, args)
    local kept = msg.replied or (#msg.files > 0 and msg) or nil
    if not id then return msg:reply("Usage: !evidence INC-12, in the thread of the message to keep") end
    if not kept and msg.network == "console" then
      return msg:reply("Give the file's path: !evidence " .. id .. " /path/to/file")
    elseif not kept then
      return msg:reply("Reply with !evidence in the thread of the message or upload to keep (or attach the file).")
    end
    if not incidents.get(id) then return msg:reply("There is no incident " .. id) end
    local lines = {}
    if kept ~= msg and kept.text ~= "" then
      local evidence = kept:keep(nil, id, "message in #" .. msg.channel.name)
      lines[#lines + 1] = ("%s: the message of %s (sha256 %s)"):format(evidence.id, kept.user.who, evidence.sha256)
    end
    for _, file in ipairs(kept.files) do
      local evidence = kept:keep(file, id, "uploaded in #" .. msg.channel.name .. " by " .. kept.user.who)
      -- A file's name is the sender's to choose: "invoice.evil-login.com" is a link in most clients.
      lines[#lines + 1] = ("%s: %s, %d byte%s (sha256 %s)"):format(evidence.id, intel.defang(file.name), evidence.size,
        evidence.size == 1 and "" or "s", evidence.sha256)
    end
    msg:reply(("Kept on %s:\n%s"):format(id, table.concat(lines, "\n")))
  end,
}
