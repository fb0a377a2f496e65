-- status: the channels the bot watches, and how.
local channels = require("lib.channels")

return command {
  name = "status",
  usage = "status",
  help = "the channels I watch, and which are verbose",
  run = function(msg)
    local watched, rooms = {}, {}
    local list = channels.joined(msg.network)
    for _, settings in ipairs(list) do
      if settings.watched then watched[#watched + 1] = channels.describe(settings, list)
      else rooms[#rooms + 1] = channels.describe(settings, list) end
    end
    local lines = { #watched > 0 and "Watching " .. table.concat(watched, ", ") .. "."
                    or "Watching no channel: tell me join #channel, or join all." }
    if #rooms > 0 then lines[#lines + 1] = "War rooms: " .. table.concat(rooms, ", ") .. "." end
    msg:reply(table.concat(lines, "\n"))
  end,
}
