-- join all | join #ch1, #ch2: the bot joins the channels and checks what is posted there.
-- "all" is every channel the network lets the bot see; a network that lists none (the
-- terminal, where any #name is a channel) needs the channels named.
local channels = require("lib.channels")

return command {
  name = "join",
  usage = "join all | join #channel1, #channel2",
  help = "join channels and check every indicator and file posted there",
  roles = { "analyst" },
  run = function(msg, args)
    local names = channels.names(args.text)
    if #names == 0 then return msg:reply("Usage: join all, or join #channel1, #channel2") end
    if channels.all(names) then
      names = {}
      for _, channel in ipairs(chat.available(msg.network)) do names[#names + 1] = channel.name end
      if #names == 0 then
        return msg:reply("I can see no channel to join here: name them, as in join #soc, #ir.")
      end
    end
    local joined, failed = {}, {}
    for _, name in ipairs(names) do
      local ok, result = pcall(chat.join, msg.network, name)
      if ok then joined[#joined + 1] = "#" .. result.name else failed[#failed + 1] = "#" .. name .. ": " .. tostring(result) end
    end
    local lines = {}
    if #joined > 0 then lines[#lines + 1] = "Watching " .. table.concat(joined, ", ") .. "." end
    if #failed > 0 then lines[#lines + 1] = "Could not join " .. table.concat(failed, "; ") end
    msg:reply(table.concat(lines, "\n"))
  end,
}
