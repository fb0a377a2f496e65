-- !action NAME [INC-12] key=value ...: runs an action an integration declares, for whoever
-- asked. Its parameters are checked first. One whose risk needs an approval waits for an
-- approver's yes, asked in actions.approval.channel whichever channel it was said in (a war
-- room is not where the approvers are); with no channel configured, it is asked where it was
-- said (automator chat's terminal, whose user answers). In an incident's war room (or with
-- INC-12 first) the action is journaled on the incident. !action list shows what there is.
-- Two words are the command's, not the action's parameters: dry_run=true (check and record,
-- send nothing) and ttl=24h (lift it by itself after that long: its undo runs then).
--   !action checkpoint.block_ip ip=198.51.100.7 reason=C2
--   !action checkpoint.block_ip INC-12 ip=198.51.100.7 ttl=24h
--   !action checkpoint.block_ip INC-12 ip=198.51.100.7 dry_run=true
--   !action undo ACT-3f9a0c12b4
local incident_ref = require("lib.incident_ref")

local USAGE = "Usage: !action NAME [INC-12] key=value ... [ttl=24h] [dry_run=true], !action undo ACT-…, "
  .. "!action list"

local function list(msg)
  local lines = {}
  for _, action in ipairs(actions.list()) do
    local params = {}
    for name, param in pairs(action.params) do
      params[#params + 1] = name .. (param.required and "" or "?") .. ":" .. param.type
    end
    table.sort(params)
    lines[#lines + 1] = ("• %s (risk %s) %s"):format(action.name, action.risk, table.concat(params, " "))
  end
  return msg:reply(#lines == 0 and "No integration declares actions." or table.concat(lines, "\n"))
end

--- Seconds in the largest unit that holds them whole: 86400 is "1d", 5400 is "90m".
local function duration(seconds)
  for _, unit in ipairs({ { "w", 604800 }, { "d", 86400 }, { "h", 3600 }, { "m", 60 } }) do
    if seconds >= unit[2] and seconds % unit[2] == 0 then return ("%d%s"):format(seconds // unit[2], unit[1]) end
  end
  return ("%gs"):format(seconds)
end

--- The key=value words as parameters, with the command's own words (dry_run, ttl) taken out.
local function parameters(text)
  local params, options = {}, { dry_run = false }
  for key, value in text:gmatch("([%w_]+)=(%S+)") do
    if key == "dry_run" then
      options.dry_run = value == "true"
    elseif key == "ttl" then
      options.ttl = value
    else
      params[key] = value
    end
  end
  return params, options
end

return command {
  name = "action",
  usage = "!action NAME [INC-12] key=value ... [ttl=24h] [dry_run=true]",
  help = "run an action (block, disable, contain...) after its checks and approval; !action list shows them",
  roles = { "responder" },
  run = function(msg, args)
    local name = args[1]
    if name == nil then return msg:reply(USAGE) end
    if name == "list" then return list(msg) end
    if name == "undo" then
      if not args[2] then return msg:reply(USAGE) end
      local undone = actions.undo(args[2])
      return msg:reply(("Undone %s (%s)."):format(undone.id, undone.name))
    end
    local rest = { table.unpack(args, 2) }
    rest.text = args.text:gsub("^%s*%S+%s*", "", 1)
    local incident, text = incident_ref.take(msg, rest)
    local params, options = parameters(text or rest.text)
    options.incident, options.default_channel = incident, msg.channel.id
    local plan = actions.plan(name, params, options)
    if plan.approval == "required" and not plan.dry_run
        and plan.channel ~= msg.channel.id and plan.channel ~= "#" .. msg.channel.name then
      -- The question is asked elsewhere: say so here, or the asker hears nothing until it is answered.
      msg:reply(("Waiting for an approver in %s: %s."):format(plan.channel, intel.defang(plan.summary)))
    end
    local done, why = actions.run(name, params, options)
    if not done then return msg:reply(("Not done: %s."):format(why)) end
    if done.status == "planned" then
      local lifting = plan.ttl and (" It would lift by itself %s after it is sent."):format(duration(plan.ttl)) or ""
      return msg:reply(("Dry run %s: checked and recorded, nothing sent.%s"):format(done.id, lifting))
    end
    msg:reply(("%s %s: done%s."):format(done.id, name, done.expires_at and (", lifts at " .. done.expires_at) or ""))
  end,
}
