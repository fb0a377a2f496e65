-- The channels of the bot's settings commands: "#ch1, #ch2", "ch1 ch2", ids and "all".
local channels = {}

--- The names in `text`, without their "#" ("#soc, #ir" gives { "soc", "ir" }); an id stays
--- as it is ("C0123", "!abc:example.org"), and so does a Matrix alias, whose "#" is its own
--- ("#soc:example.org": the directory knows it by that, not by "soc:example.org").
function channels.names(text)
  local names = {}
  for name in text:gmatch("[^%s,]+") do
    names[#names + 1] = name:find(":", 1, true) and name or (name:gsub("^#", ""))
  end
  return names
end

--- Whether `names` is the word "all" alone: every channel, not one named all.
function channels.all(names)
  return #names == 1 and names[1] == "all"
end

--- The channels the bot is in on `network`: those it watches and the war rooms, as
--- chat.channels gives them (sorted by name).
function channels.joined(network)
  local list = {}
  for _, settings in ipairs(chat.channels(network)) do
    if settings.watched or settings.incident then list[#list + 1] = settings end
  end
  return list
end

--- The channels of `list` that `name` names on `network`: the one of that id, else all of that
--- name (several when channels share it). A Matrix alias ("#soc:example.org") is neither: the
--- room directory gives its room's id, as it does to join.
function channels.find(list, name, network)
  if name:match("^#.+:") then
    local ok, channel = pcall(chat.channel, network, name)
    if not ok then return {} end
    name = channel.id
  end
  local found = {}
  for _, settings in ipairs(list) do
    if settings.id == name then return { settings } end
    if settings.name == name then found[#found + 1] = settings end
  end
  return found
end

--- Whether another channel of `list` has the name of `settings`: then only ids tell them apart.
local function shared(settings, list)
  for _, other in ipairs(list or {}) do
    if other.name == settings.name and other.id ~= settings.id then return true end
  end
  return false
end

--- "#soc", or "#ops (!abc:example.org)" when another channel of `list` has its name.
function channels.label(settings, list)
  return "#" .. settings.name .. (shared(settings, list) and (" (" .. settings.id .. ")") or "")
end

--- A name or an id as the person typed it: "#soc", "!abc:example.org" and "#soc:example.org"
--- (Matrix), "C0123ABC" (Slack's ids are upper case; its names are not).
function channels.typed(name)
  return (name:match("^[!#]") or name:match("^[CGD][%u%d]+$")) and name or "#" .. name
end

--- "Say which: leave !abc:example.org or leave !def:example.org", for a name several
--- channels of the bot share.
function channels.which(found, command)
  local choices = {}
  for _, settings in ipairs(found) do choices[#choices + 1] = command .. " " .. settings.id end
  return ("#%s names %d channels: say which, %s."):format(found[1].name, #found, table.concat(choices, " or "))
end

--- "#soc (verbose)", "#ir (war room of INC-4, closed)", "#ops (!abc:example.org)" when another
--- channel of `list` has its name, for the answers: a war room outlives its incident's close
--- (people talk there after), and says so.
function channels.describe(settings, list)
  local flags = {}
  if shared(settings, list) then flags[#flags + 1] = settings.id end
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
