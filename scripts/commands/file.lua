-- !file, in the thread of an uploaded file (or with the file attached): hashes it and checks
-- the hashes. In the terminal (automator chat), `!file PATH` attaches the local file.
local findings = require("lib.findings")

return command {
  name = "file",
  usage = "!file (in the thread of an upload; in the terminal: !file PATH)",
  help = "hash an uploaded file and check it",
  run = function(msg)
    local files = #msg.files > 0 and msg.files or (msg.replied and msg.replied.files) or {}
    if #files == 0 then
      if msg.network == "console" then return msg:reply("Give the file's path: !file /path/to/file") end
      return msg:reply("Reply with !file in the thread of an uploaded file, or attach the file to the command.")
    end
    local lines = {}
    for _, file in ipairs(files) do lines[#lines + 1] = (findings.file(msg, file)) end
    msg:reply(table.concat(lines, "\n"))
  end,
}
