-- help: every command with its usage. In channels commands start with "!"; in a direct
-- message they need none.
return command {
  name = "help",
  usage = "!help",
  help = "this list",
  run = function(msg)
    local lines = { "I check every IP, URL, domain, hash and file posted where I watch. Commands:" }
    for _, each in ipairs(chat.commands()) do
      local roles = #each.roles > 0 and (" (" .. table.concat(each.roles, " or ") .. ")") or ""
      lines[#lines + 1] = ("• %s: %s%s"):format(each.usage, each.help, roles)
    end
    msg:reply(table.concat(lines, "\n"))
  end,
}
