-- leave #channel: the bot stops checking the channel and leaves it.
local channels = require("lib.channels")

return command {
  name = "leave",
  usage = "leave #channel1, #channel2",
  help = "stop checking channels and leave them",
  run = function(msg, args)
    local names = channels.names(args.text)
    if #names == 0 then return msg:reply("Usage: leave #channel") end
    local left = {}
    for _, name in ipairs(names) do left[#left + 1] = "#" .. chat.leave(msg.network, name).name end
    msg:reply("Left " .. table.concat(left, ", ") .. ".")
  end,
}
