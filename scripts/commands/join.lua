-- join all | join #ch1, #ch2 | join !abc:example.org: the bot joins the channels and checks
-- what is posted there. "all" is every channel the network lets the bot see; a network that
-- lists none (the terminal, where any #name is a channel) needs the channels named. A name
-- that several channels share is refused with their ids, to name the one meant; a channel
-- where the bot may not post is refused too, since its verdicts would go unsaid there.
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
      for _, channel in ipairs(chat.available(msg.network)) do names[#names + 1] = channel.id end
      if #names == 0 then
        return msg:reply("I can see no channel to join here: name them, as in join #soc, #ir.")
      end
    end
    local joined, failed = {}, {}
    for _, name in ipairs(names) do
      local ok, result = pcall(chat.join, msg.network, name)
      if ok then
        joined[#joined + 1] = result
      else
        failed[#failed + 1] = channels.typed(name) .. ": " .. tostring(result):gsub("^chat%.join: ", "")
      end
    end
    local known = chat.channels(msg.network)
    local lines = {}
    if #joined > 0 then
      local labels = {}
      for i, settings in ipairs(joined) do labels[i] = channels.label(settings, known) end
      lines[#lines + 1] = "Watching " .. table.concat(labels, ", ") .. "."
    end
    if #failed > 0 then lines[#lines + 1] = "Could not join " .. table.concat(failed, "; ") end
    msg:reply(table.concat(lines, "\n"))
  end,
}
