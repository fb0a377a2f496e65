-- Response actions for a playbook that must go on without them. Where an integration can act
-- (disable the account, contain the host), the playbook acts at once; where it cannot, people
-- do the step. Shared by the playbooks in playbooks/.

local respond = {}

--- Runs the action `name` on `inc`'s behalf: the action when it was done, or nil and why it was
--- not, for the task that gives the step to people. Why: its integration is not set up, the
--- target is protected (actions.protected in the configuration), the approver said no or did
--- not answer in time, or the service failed. Each is on the incident's journal or action
--- history as well. `options` are actions.run's, such as `{ ttl = "24h" }`.
function respond.act(name, params, inc, options)
  local available, why = actions.available(name)
  if not available then return nil, why end
  local on_incident = { incident = inc }
  for key, value in pairs(options or {}) do on_incident[key] = value end
  -- A refused parameter (a protected account or network) is an error in actions.run, as a
  -- mistake in the script is; for a playbook acting on an alert's data it is one more reason to
  -- ask a person. The check is recorded as a refusal on the incident.
  local checked, refusal = pcall(actions.plan, name, params, on_incident)
  if not checked then return nil, (tostring(refusal):gsub("^actions%.plan: ", "")) end
  return actions.run(name, params, on_incident)
end

--- "ACT-3f9a0c12b4", for a note; "ACT-3f9a0c12b4, a dry run" for an action a trial planned
--- (`automator run --incident`, a test): nothing was sent.
function respond.label(action)
  return action.status == "planned" and action.id .. ", a dry run" or action.id
end

--- Reverses `action` (from respond.act) once people are done with what it held off: true. When
--- its undo fails, `task` (the fields of inc:task, its description ending where the error
--- follows) gives the step to people, and this waits for them: false.
function respond.undo(inc, action, task)
  -- A trial's planned action sent nothing, so there is nothing to reverse.
  if action.status == "planned" then return true end
  local undone, problem = pcall(actions.undo, action.id)
  if undone then return true end
  task.description = ("%s: %s."):format(task.description, tostring(problem))
  inc:task(task):wait()
  return false
end

return respond
