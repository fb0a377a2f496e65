-- verbose on #ch1, private1 | verbose off #ch1 | verbose on #soc:example.org | verbose on all:
-- answer every finding in those channels, or only the malicious ones. Only a channel the bot
-- watches has findings to answer: another is said so rather than watched from now on (a
-- mistyped name would be). A Matrix alias names its room, as in join.
local channels = require("lib.channels")

return command {
  name = "verbose",
  usage = "verbose on|off #channel1, #channel2 | verbose on|off all",
  help = "answer every finding in the channels (on), or only the malicious ones (off)",
  roles = { "analyst" },
  run = function(msg, args)
    local mode = args[1]
    local names = channels.names(args.text:gsub("^%s*%S+", "", 1))
    if (mode ~= "on" and mode ~= "off") or #names == 0 then
      return msg:reply("Usage: verbose on #channel1, #channel2 (or verbose off #channel1, or verbose on all)")
    end
    local watched = {}
    for _, settings in ipairs(channels.joined(msg.network)) do
      if settings.watched then watched[#watched + 1] = settings end
    end
    local targets, unwatched, unsure = {}, {}, {}
    if channels.all(names) then
      if #watched == 0 then return msg:reply("I watch no channel: join #channel first.") end
      targets = watched
    else
      for _, name in ipairs(names) do
        local found = channels.find(watched, name, msg.network)
        if #found == 1 then targets[#targets + 1] = found[1]
        elseif #found == 0 then unwatched[#unwatched + 1] = channels.typed(name)
        else unsure[#unsure + 1] = channels.which(found, "verbose " .. mode) end
      end
    end
    local done = {}
    for _, settings in ipairs(targets) do
      done[#done + 1] = channels.label(chat.verbose(msg.network, settings.id, mode == "on"), watched)
    end
    local lines = {}
    if #done > 0 then lines[#lines + 1] = ("Verbose %s in %s."):format(mode, table.concat(done, ", ")) end
    if #unwatched > 0 then
      lines[#lines + 1] = ("I do not watch %s: join it first."):format(table.concat(unwatched, ", "))
    end
    for _, line in ipairs(unsure) do lines[#lines + 1] = line end
    msg:reply(table.concat(lines, "\n"))
  end,
}
