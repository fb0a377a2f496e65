-- Which incident a war-room command means: the one named first in its words (INC-12), else
-- the incident whose war room the channel is.
local incident_ref = {}

--- The incident id, and the words after it; nil and a usage hint when there is none.
function incident_ref.take(msg, args)
  local first = args[1] and args[1]:upper()
  if first and first:match("^INC%-%d+$") then
    return first, args.text:gsub("^%s*%S+%s*", "", 1)
  end
  if msg.incident then return msg.incident, args.text end
  return nil
end

return incident_ref
