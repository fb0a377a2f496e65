-- leave #ch1, #ch2 | leave all: the bot stops checking the channels and leaves them. "all" is
-- every channel it is in (watched, or a war room); a channel it is not in is said so, and left
-- alone.
local channels = require("lib.channels")

return command {
  name = "leave",
  usage = "leave #channel1, #channel2 | leave all",
  help = "stop checking channels and leave them",
  roles = { "analyst" },
  run = function(msg, args)
    local names = channels.names(args.text)
    if #names == 0 then return msg:reply("Usage: leave #channel1, #channel2, or leave all") end
    local list, joined = channels.joined(msg.network)
    if channels.all(names) then
      if #list == 0 then return msg:reply("I am in no channel.") end
      names = {}
      for _, settings in ipairs(list) do names[#names + 1] = settings.name end
    end
    local left, absent = {}, {}
    for _, name in ipairs(names) do
      if joined[name] then
        left[#left + 1] = "#" .. chat.leave(msg.network, name).name
      else
        absent[#absent + 1] = "#" .. name
      end
    end
    local lines = {}
    if #left > 0 then lines[#lines + 1] = "Left " .. table.concat(left, ", ") .. "." end
    if #absent > 0 then lines[#lines + 1] = "I am not in " .. table.concat(absent, ", ") .. "." end
    msg:reply(table.concat(lines, "\n"))
  end,
}
