-- !task list [INC-12] | !task done T-7 [ANSWER] | !task assign T-7 OWNER: the open tasks,
-- completing one (the run waiting on it goes on), and giving one to someone else (the run goes on
-- waiting). `!task done 7` is T-7: the number is what people read out.
local incident_ref = require("lib.incident_ref")

local USAGE = "!task list [INC-12] | !task done T-7 [ANSWER] | !task assign T-7 OWNER"

--- The open task `id` ("T-7"), or nil.
local function open_task(id)
  for _, task in ipairs(incidents.tasks(nil, "open")) do
    if task.id == id then return task end
  end
  return nil
end

--- The task id a person typed ("T-7", "t-7", "7") as "T-7".
local function task_id(typed)
  local id = typed:upper()
  if id:match("^%d+$") then id = "T-" .. id end
  return id
end

--- `text` after its first `n` words.
local function after_words(text, n)
  return (text:gsub("^%s*" .. ("%S+%s*"):rep(n), "", 1))
end

return command {
  name = "task",
  usage = USAGE,
  help = "list open tasks, complete one, or give one to someone else",
  roles = { done = { "analyst" }, assign = { "analyst" } },
  run = function(msg, args)
    if args[1] == "done" and args[2] then
      local answer, id = after_words(args.text, 2), task_id(args[2])
      if not open_task(id) then return msg:reply(("%s is not an open task: !task list shows them."):format(id)) end
      -- An answer that is not one of the task's choices is refused by the host, which names them.
      local done = incidents.complete_task(id, answer)
      return msg:reply(("%s done%s."):format(done.id, answer ~= "" and (": " .. intel.defang(answer)) or ""))
    end
    if args[1] == "assign" and args[2] and args[3] then
      local owner, id = after_words(args.text, 2), task_id(args[2])
      local task = open_task(id)
      if not task then return msg:reply(("%s is not an open task: !task list shows them."):format(id)) end
      local given = incidents.assign_task(id, owner)
      return msg:reply(("%s given to %s%s."):format(given.id, intel.defang(given.owner),
        task.owner and (" (was " .. intel.defang(task.owner) .. ")") or ""))
    end
    if args[1] == "list" then
      local id = incident_ref.take(msg, { text = after_words(args.text, 1), args[2] })
      local tasks = incidents.tasks(id, "open")
      if #tasks == 0 then return msg:reply("No open task" .. (id and (" on " .. id) or "") .. ".") end
      local lines = {}
      for _, task in ipairs(tasks) do
        lines[#lines + 1] = ("• %s %s — %s%s%s"):format(task.id, intel.defang(task.title), task.incident,
          task.owner and (", " .. intel.defang(task.owner)) or "", task.overdue and ", OVERDUE" or "")
      end
      return msg:reply(table.concat(lines, "\n"))
    end
    msg:reply("Usage: " .. USAGE)
  end,
}
