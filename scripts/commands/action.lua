-- !action NAME [INC-12] key=value ...: runs an action an integration declares, for whoever
-- asked. Its parameters are checked first. One whose risk needs an approval waits for an
-- approver's yes, asked in actions.approval.channel whichever channel it was said in (a war
-- room is not where the approvers are); with no channel configured, it is asked where it was
-- said (automator chat's terminal, whose user answers). In an incident's war room (or with
-- INC-12 first) the action is journaled on the incident. !action list shows what there is.
--   !action checkpoint.block_ip ip=198.51.100.7 reason=C2
--   !action checkpoint.block_ip INC-12 ip=198.51.100.7 dry_run=true
--   !action undo ACT-3f9a0c12b4
local incident_ref = require("lib.incident_ref")

local USAGE = "Usage: !action NAME [INC-12] key=value ..., !action undo ACT-…, !action list"

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

--- The key=value words as parameters, with dry_run taken out.
local function parameters(text)
  local params, dry_run = {}, false
  for key, value in text:gmatch("([%w_]+)=(%S+)") do
    if key == "dry_run" then dry_run = value == "true" else params[key] = value end
  end
  return params, dry_run
end

return command {
  name = "action",
  usage = "!action NAME [INC-12] key=value ...",
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
    local params, dry_run = parameters(text or rest.text)
    local options = { incident = incident, dry_run = dry_run, default_channel = msg.channel.id }
    local plan = actions.plan(name, params, options)
    if plan.approval == "required" and not plan.dry_run
        and plan.channel ~= msg.channel.id and plan.channel ~= "#" .. msg.channel.name then
      -- The question is asked elsewhere: say so here, or the asker hears nothing until it is answered.
      msg:reply(("Waiting for an approver in %s: %s."):format(plan.channel, intel.defang(plan.summary)))
    end
    local done, why = actions.run(name, params, options)
    if not done then return msg:reply(("Not done: %s."):format(why)) end
    if done.status == "planned" then return msg:reply(("Dry run %s: checked and recorded, nothing sent."):format(done.id)) end
    msg:reply(("%s %s: done%s."):format(done.id, name, done.expires_at and (", lifts at " .. done.expires_at) or ""))
  end,
}
