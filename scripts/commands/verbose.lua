-- verbose on #ch1, private1 | verbose off #ch1 | verbose on all: answer every finding in those
-- channels, or only the malicious ones. Only a channel the bot watches has findings to answer:
-- another is said so rather than watched from now on (a mistyped name would be).
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
      if settings.watched then watched[#watched + 1] = settings.name end
    end
    if channels.all(names) then
      if #watched == 0 then return msg:reply("I watch no channel: join #channel first.") end
      names = watched
    end
    local is_watched = {}
    for _, name in ipairs(watched) do is_watched[name] = true end
    local done, unwatched = {}, {}
    for _, name in ipairs(names) do
      if is_watched[name] then
        done[#done + 1] = "#" .. chat.verbose(msg.network, name, mode == "on").name
      else
        unwatched[#unwatched + 1] = "#" .. name
      end
    end
    local lines = {}
    if #done > 0 then lines[#lines + 1] = ("Verbose %s in %s."):format(mode, table.concat(done, ", ")) end
    if #unwatched > 0 then
      lines[#lines + 1] = ("I do not watch %s: join it first."):format(table.concat(unwatched, ", "))
    end
    msg:reply(table.concat(lines, "\n"))
  end,
}
