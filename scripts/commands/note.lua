-- !note [INC-12] TEXT: a note on the incident's journal, in the name of whoever wrote it.
local incident_ref = require("lib.incident_ref")

return command {
  name = "note",
  usage = "!note [INC-12] TEXT",
  help = "add a note to an incident (this war room's, or the one named)",
  roles = { "analyst" },
  run = function(msg, args)
    local id, text = incident_ref.take(msg, args)
    if not id or text == "" then
      return msg:reply("Usage: !note INC-12 TEXT (in an incident's war room: !note TEXT)")
    end
    local inc = incidents.get(id)
    if not inc then return msg:reply("There is no incident " .. id) end
    inc:note(text)
    msg:react("memo")
  end,
}
