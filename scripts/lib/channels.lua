-- The channel names of the bot's settings commands: "#ch1, #ch2", "ch1 ch2" and "all".
local channels = {}

--- The names in `text`, without their "#" ("#soc, #ir" gives { "soc", "ir" }).
function channels.names(text)
  local names = {}
  for name in text:gmatch("[^%s,]+") do names[#names + 1] = name:gsub("^#", "") end
  return names
end

--- Whether `names` is the word "all" alone: every channel, not one named all.
function channels.all(names)
  return #names == 1 and names[1] == "all"
end

--- The channels the bot is in on `network`: those it watches and the war rooms, as
--- chat.channels gives them (sorted by name), and the same by name.
function channels.joined(network)
  local list, by_name = {}, {}
  for _, settings in ipairs(chat.channels(network)) do
    if settings.watched or settings.incident then
      list[#list + 1] = settings
      by_name[settings.name] = settings
    end
  end
  return list, by_name
end

--- "#soc (verbose)", "#ir (war room of INC-4, closed)", for the answers: a war room outlives
--- its incident's close (people talk there after), and says so.
function channels.describe(settings)
  local flags = {}
  if settings.verbose then flags[#flags + 1] = "verbose" end
  if settings.incident then
    local inc = incidents.get(settings.incident)
    local closed = inc ~= nil and inc.status == "closed"
    flags[#flags + 1] = "war room of " .. settings.incident .. (closed and ", closed" or "")
  end
  local text = "#" .. settings.name
  if #flags > 0 then text = text .. " (" .. table.concat(flags, ", ") .. ")" end
  return text
end

return channels
