-- The channel names of the bot's settings commands: "#ch1, #ch2", "ch1 ch2" and "all".
local channels = {}

--- The names in `text`, without their "#" ("#soc, #ir" gives { "soc", "ir" }).
function channels.names(text)
  local names = {}
  for name in text:gmatch("[^%s,]+") do names[#names + 1] = name:gsub("^#", "") end
  return names
end

--- "#soc (verbose)", for the answers.
function channels.describe(settings)
  local flags = {}
  if settings.verbose then flags[#flags + 1] = "verbose" end
  if settings.incident then flags[#flags + 1] = "war room of " .. settings.incident end
  local text = "#" .. settings.name
  if #flags > 0 then text = text .. " (" .. table.concat(flags, ", ") .. ")" end
  return text
end

return channels
