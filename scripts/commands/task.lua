-- !task list [INC-12] | !task done T-7 [ANSWER]: the open tasks, and completing one (the run
-- waiting on it goes on). `!task done 7` is T-7: the number is what people read out.
local incident_ref = require("lib.incident_ref")

--- The open task `id` ("T-7"), or nil.
local function open_task(id)
  for _, task in ipairs(incidents.tasks(nil, "open")) do
    if task.id == id then return task end
  end
  return nil
end

return command {
  name = "task",
  usage = "!task list [INC-12] | !task done T-7 [ANSWER]",
  help = "list open tasks, or complete one",
  roles = { done = { "analyst" } },
  run = function(msg, args)
    if args[1] == "done" and args[2] then
      local answer = args.text:gsub("^%s*%S+%s+%S+%s*", "", 1)
      local id = args[2]:upper()
      if id:match("^%d+$") then id = "T-" .. id end
      if not open_task(id) then return msg:reply(("%s is not an open task: !task list shows them."):format(id)) end
      -- An answer that is not one of the task's choices is refused by the host, which names them.
      local done = incidents.complete_task(id, answer)
      return msg:reply(("%s done%s."):format(done.id, answer ~= "" and (": " .. intel.defang(answer)) or ""))
    end
    if args[1] == "list" then
      local id = incident_ref.take(msg, { text = args.text:gsub("^%s*%S+%s*", "", 1), args[2] })
      local tasks = incidents.tasks(id, "open")
      if #tasks == 0 then return msg:reply("No open task" .. (id and (" on " .. id) or "") .. ".") end
      local lines = {}
      for _, task in ipairs(tasks) do
        lines[#lines + 1] = ("• %s %s — %s%s%s"):format(task.id, intel.defang(task.title), task.incident,
          task.owner and (", " .. intel.defang(task.owner)) or "", task.overdue and ", OVERDUE" or "")
      end
      return msg:reply(table.concat(lines, "\n"))
    end
    msg:reply("Usage: !task list [INC-12], or !task done T-7 [ANSWER]")
  end,
}
