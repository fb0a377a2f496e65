-- leave #ch1, #ch2 | leave !abc:example.org | leave #soc:example.org | leave all: the bot stops
-- checking the channels and leaves them. "all" is every channel it is in (watched, or a war
-- room); a channel it is not in is said so, and left alone. A war room left is one no more: its
-- incident's journal keeps what was said, and ends there. A Matrix alias names its room, as in join.
local channels = require("lib.channels")

return command {
  name = "leave",
  usage = "leave #channel1, #channel2 | leave all",
  help = "stop checking channels and leave them (a war room stops being one)",
  roles = { "analyst" },
  run = function(msg, args)
    local names = channels.names(args.text)
    if #names == 0 then return msg:reply("Usage: leave #channel1, #channel2, or leave all") end
    local list = channels.joined(msg.network)
    local leaving, absent, unsure = {}, {}, {}
    if channels.all(names) then
      if #list == 0 then return msg:reply("I am in no channel.") end
      leaving = list
    else
      for _, name in ipairs(names) do
        local found = channels.find(list, name, msg.network)
        if #found == 1 then leaving[#leaving + 1] = found[1]
        elseif #found == 0 then absent[#absent + 1] = channels.typed(name)
        else unsure[#unsure + 1] = channels.which(found, "leave") end
      end
    end
    local left, ended = {}, {}
    for _, settings in ipairs(leaving) do
      chat.leave(msg.network, settings.id)
      local label = channels.label(settings, list)
      left[#left + 1] = label
      if settings.incident then
        ended[#ended + 1] = ("%s is no longer the war room of %s: its journal keeps what was said there."):format(
          label, settings.incident)
      end
    end
    local lines = {}
    if #left > 0 then lines[#lines + 1] = "Left " .. table.concat(left, ", ") .. "." end
    for _, line in ipairs(ended) do lines[#lines + 1] = line end
    if #absent > 0 then lines[#lines + 1] = "I am not in " .. table.concat(absent, ", ") .. "." end
    for _, line in ipairs(unsure) do lines[#lines + 1] = line end
    msg:reply(table.concat(lines, "\n"))
  end,
}
