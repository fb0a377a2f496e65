-- !incident new TITLE | !incident show [INC-12] | !incident close [INC-12] [RESOLUTION] REASON
-- RESOLUTION, what the incident turned out to be, is one of true_positive, benign,
-- false_positive, undetermined: `!incident close INC-7 false_positive a test mail`.
-- A new incident opened from a channel makes that channel its war room: what is said there is
-- journaled on it. The war room of an open incident stays that incident's; a closed one's
-- becomes the new incident's (both journals say so).
local incident_ref = require("lib.incident_ref")

local USAGE = "Usage: !incident new TITLE, !incident show [INC-12], !incident close [INC-12] [RESOLUTION] REASON"
local CLOSE_USAGE = "Usage: !incident close [INC-12] [true_positive|benign|false_positive|undetermined] REASON"
local RESOLUTIONS = { true_positive = true, benign = true, false_positive = true, undetermined = true }

-- The resolution that leads the words of a close, if one does, and the reason after it.
local function resolution_of(text)
  local first, rest = text:match("^(%S+)%s*(.*)$")
  if first and RESOLUTIONS[first:lower()] then return first:lower(), rest end
  return nil, text
end

-- What an incident holds came from alerts and people (a title is often the phishing URL): it
-- is echoed defanged, as every indicator the bot writes.
local function show(inc)
  local lines = { ("*%s* %s — %s, %s, %s"):format(inc.id, intel.defang(inc.title), inc.severity, inc.type, inc.status) }
  if inc.owner then lines[#lines + 1] = "Owner: " .. intel.defang(inc.owner) end
  for _, task in ipairs(incidents.tasks(inc.id, "open")) do
    lines[#lines + 1] = ("• %s %s%s"):format(task.id, intel.defang(task.title),
      task.owner and (" (" .. intel.defang(task.owner) .. ")") or "")
  end
  return table.concat(lines, "\n")
end

return command {
  name = "incident",
  usage = "!incident new TITLE | !incident show [INC-12] | !incident close [INC-12] [RESOLUTION] REASON",
  help = "open an incident here (this channel becomes its war room), show one, or close one",
  roles = { new = { "analyst" }, close = { "analyst" } },
  run = function(msg, args)
    local action = args[1]
    local rest = { text = args.text:gsub("^%s*%S+%s*", "", 1) }
    for word in rest.text:gmatch("%S+") do rest[#rest + 1] = word end

    if action == "new" then
      if rest.text == "" then return msg:reply("Usage: !incident new TITLE") end
      local inc = incidents.create{
        title = rest.text, type = "chat", severity = "medium",
        fields = { reported_by = msg.user.handle, channel = msg.channel.name },
      }
      inc:note(("opened from chat by %s: %s"):format(msg.user.who, msg.text))
      local title = intel.defang(inc.title)
      if msg.channel.direct then return msg:reply(("Opened %s: %s"):format(inc.id, title)) end
      -- An open incident keeps its war room; a closed one's passes to the new incident.
      local current = msg.incident and incidents.get(msg.incident)
      if current and current.status ~= "closed" then
        return msg:reply(("Opened %s: %s. This channel stays the war room of %s, which is open."):format(
          inc.id, title, current.id))
      end
      chat.warroom(msg.network, msg.channel.id, inc.id)
      return msg:reply(("Opened %s: %s. This channel is its war room."):format(inc.id, title))
    end

    local id, text = incident_ref.take(msg, rest)
    -- Outside a war room the incident must be named: say so, rather than the usage of every action.
    if (action == "show" or action == "close") and not id then
      local typed = msg.channel.direct and "incident" or "!incident"
      local example = action == "show" and typed .. " show INC-12" or typed .. " close INC-12 REASON"
      local where = msg.channel.direct and "a direct message" or "this channel"
      return msg:reply(("Name the incident, as in %s: %s is no incident's war room."):format(example, where))
    end
    if action == "show" then
      local inc = incidents.get(id)
      if not inc then return msg:reply("There is no incident " .. id) end
      return msg:reply(show(inc))
    end
    if action == "close" then
      local resolution
      resolution, text = resolution_of(text)
      if text == "" then return msg:reply(CLOSE_USAGE) end
      local inc = incidents.get(id)
      if not inc then return msg:reply("There is no incident " .. id) end
      -- Closed again, its close time would move, and with it its time to resolve in reports.
      if inc.status == "closed" then
        return msg:reply(("%s is closed already (%s)."):format(id, intel.defang(inc.close_reason or "no reason given")))
      end
      -- Closing cancels the open tasks (and stops the playbook): say so, for whoever owned them.
      local open = #incidents.tasks(id, "open")
      inc:close{ reason = text, resolution = resolution }
      local cancelled = open == 0 and "" or (" (%d open task%s cancelled)"):format(open, open == 1 and "" or "s")
      return msg:reply(("Closed %s%s: %s%s"):format(id, resolution and (" as " .. resolution) or "", intel.defang(text),
        cancelled))
    end
    msg:reply(USAGE)
  end,
}
