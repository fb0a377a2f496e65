-- status: the channels the bot watches, and how.
local channels = require("lib.channels")

return command {
  name = "status",
  usage = "status",
  help = "the channels I watch, and which are verbose",
  run = function(msg)
    local watched, rooms = {}, {}
    for _, settings in ipairs(chat.channels(msg.network)) do
      if settings.watched then watched[#watched + 1] = channels.describe(settings)
      elseif settings.incident then rooms[#rooms + 1] = channels.describe(settings) end
    end
    local lines = { #watched > 0 and "Watching " .. table.concat(watched, ", ") .. "."
                    or "Watching no channel: tell me join #channel, or join all." }
    if #rooms > 0 then lines[#lines + 1] = "War rooms: " .. table.concat(rooms, ", ") .. "." end
    msg:reply(table.concat(lines, "\n"))
  end,
}
