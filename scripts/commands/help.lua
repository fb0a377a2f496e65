-- help: every command with its usage, and who may run it. In channels commands start with "!";
-- in a direct message they need none.

--- "(responder)", "(close: analyst; new: analyst)", or "" for a command anyone may run.
local function who(command)
  local parts = {}
  if #command.roles > 0 then parts[1] = table.concat(command.roles, " or ") end
  local words = {}
  for word in pairs(command.roles_by_word) do words[#words + 1] = word end
  table.sort(words)
  for _, word in ipairs(words) do
    parts[#parts + 1] = word .. ": " .. table.concat(command.roles_by_word[word], " or ")
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
