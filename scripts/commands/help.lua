-- help: every command with its usage, and who may run it. In channels commands start with "!";
-- in a direct message they need none.

--- "(responder)", "(close, new: analyst)", or "" for a command anyone may run: the words that
--- ask the same roles are named together.
local function who(command)
  local parts = {}
  if #command.roles > 0 then parts[1] = table.concat(command.roles, " or ") end
  local words, order = {}, {}
  for word, roles in pairs(command.roles_by_word) do
    local asked = table.concat(roles, " or ")
    if not words[asked] then
      words[asked] = {}
      order[#order + 1] = asked
    end
    table.insert(words[asked], word)
  end
  table.sort(order)
  for _, asked in ipairs(order) do
    table.sort(words[asked])
    parts[#parts + 1] = table.concat(words[asked], ", ") .. ": " .. asked
  end
  return #parts > 0 and (" (" .. table.concat(parts, "; ") .. ")") or ""
end

return command {
  name = "help",
  usage = "!help",
  help = "this list",
  run = function(msg)
    local lines = { "I check every IP, URL, domain, hash and file posted where I watch. Commands:" }
    for _, each in ipairs(chat.commands()) do
      lines[#lines + 1] = ("• %s: %s%s"):format(each.usage, each.help, who(each))
    end
    msg:reply(table.concat(lines, "\n"))
  end,
}
