extension ActionsModule {
    /// `actions.run` and its kin over the host functions. Runs once per state with the frozen base
    /// as its environment; the approval goes through `chat.approve`, the chat module's.
    public var lua: String? {
        #"""
        local host = ...
        local json, error, type, tostring, next = json, error, type, tostring, next
        local getmetatable, setmetatable = getmetatable, setmetatable

        local actions = {}

        \#(ActionOptions.source)

        -- Called by `planned`: its errors point at the script's call.
        local function params_of(params, name)
          if params == nil or (type(params) == "table" and next(params) == nil) then return "{}" end
          if type(params) ~= "table" then error(name .. ': params must be a table, as in { ip = "198.51.100.7" }', 4) end
          return json.encode(params)
        end

        -- The checks of `fn` (actions.run or actions.plan; a refusal is recorded on the incident):
        -- the plan as the host made it, with the channel its approval is asked in; the parameters
        -- as JSON; the incident's id.
        local function planned(fn, name, params, options)
          if type(name) ~= "string" then
            error(('%s expects an action name, as in %s("checkpoint.block_ip", { ip = "198.51.100.7" })'):format(fn, fn), 3)
          end
          options = options_of(fn, options, 4)
          local encoded = params_of(params, fn)
          local incident = incident_of(options.incident, fn, 4)
          local ttl = options.ttl ~= nil and tostring(options.ttl) or nil
          local plan = json.decode(host.run(name, encoded, options.dry_run == true, incident, ttl))
          plan.channel = options.channel or plan.channel or options.default_channel
          return plan, encoded, incident, ttl
        end

        \#(ActionFailure.source)

        --- What actions.run would do, without doing it: the parameters checked (a refusal is an
        --- error, as in actions.run), then `name`, `risk`, `summary`, `dry_run`, `ttl` (seconds, when
        --- it would lift by itself) and `approval` ("not needed", "standing" or "required") with the
        --- `channel` it would be asked in.
        function actions.plan(name, params, options)
          return (planned("actions.plan", name, params, options))
        end

        --- Runs an action an integration declares, such as "checkpoint.block_ip", once its parameters
        --- pass the checks. `options`: `incident` (inc, or "INC-42": the action is journaled there),
        --- `dry_run` (check and record, send nothing), `channel` (where the approval is asked, if the
        --- action's risk needs one; else the configuration's actions.approval.channel, else
        --- `default_channel`), `ttl` (lift it by itself after this long, as "24h": the action needs an
        --- undo; it wins over the ttl the action declares); any other key is an error.
        --- Returns the action (`id`, `status`, `result`...) when it was done, or planned in a dry run;
        --- nil and why when it was not done: denied, not approved in time, or failed (its error: the
        --- table the integration raised, which prints and joins as its text, or that text).
        function actions.run(name, params, options)
          local plan, encoded, incident, ttl = planned("actions.run", name, params, options)
          local dry_run = plan.dry_run
          local approved_by = nil
          if plan.approval == "standing" then
            approved_by = "\#(ActionRecord.standingApproval)"
          elseif plan.approval == "required" and not dry_run then
            local channel = plan.channel
            if chat == nil or channel == nil then
              error(("actions.run: %s is %s risk and needs an approval in chat: set actions.approval.channel "
                     .. "and chat in the configuration (or pass { channel = \"#soc\" }), or declare it in the "
                     .. "playbook's approvals"):format(name, plan.risk), 2)
            end
            -- For the incident: a war room's !action runs in a command run of none, and its question
            -- is then listed, journaled and cancelled with the incident all the same.
            -- The ttl goes in the note, not in the question: a question's text is an argument of the
            -- ask a replay compares, and runs that asked before would diverge.
            local approved, by, question = chat.approve(channel, approval_question(plan, incident),
                                                        { timeout = plan.timeout, incident = incident, note = plan.note })
            -- The action's record names its question, answered yes, no or not in time: `action show`
            -- gives who answered and when, and the report's time to approval is this question's wait.
            if question ~= nil then host.asked_in(question) end
            if not approved then
              -- Only a question nobody answered in time is answered by automator.
              local reason = by == "automator" and "\#(ActionService.nobodyApproved)" or ("denied by " .. tostring(by))
              host.decline(name, encoded, incident, reason)
              return nil, reason
            end
            approved_by = by
          end
          -- The ttl is passed only when asked for: a trailing nil would change the arguments a replay
          -- compares, and runs recorded before there was one would diverge.
          local action = json.decode(ttl == nil and host.perform(name, encoded, incident, approved_by, dry_run)
                                     or host.perform(name, encoded, incident, approved_by, dry_run, ttl))
          if action.status == "failed" then return nil, failure(action) end
          return action
        end

        --- Reverses a done action (by its id, "ACT-…") with the undo its integration declares.
        function actions.undo(id)
          if type(id) ~= "string" then error('actions.undo expects an action id, such as "ACT-3f9a0c12b4"', 2) end
          return json.decode(host.undo(id, nil))[1]
        end

        --- Reverses every done action of an incident that has an undo, the last one first.
        function actions.revert_all(incident)
          local id = incident_of(incident, "actions.revert_all")
          if id == nil then error("actions.revert_all expects an incident", 2) end
          return json.decode(host.undo(nil, id))
        end

        --- Whether the action can be sent now: true; or false and why, when its integration is in
        --- the scripts folder but not set up (its settings missing) or not in use (its file does not
        --- load). A name no integration declares is an error. A playbook asks before acting and
        --- hands the step to people when the answer is no.
        function actions.available(name)
          if type(name) ~= "string" then
            error('actions.available expects an action name, such as "entra.disable_user"', 2)
          end
          local why = host.available(name)
          if why == nil then return true end
          return false, why
        end

        --- The actions the integrations declare: `name`, `risk`, `params`, `undo`, `ttl`.
        function actions.list() return json.decode(host.list()) end

        --- The actions run, newest first: all of them, or those of an incident.
        function actions.history(incident) return json.decode(host.history(incident_of(incident, "actions.history"))) end

        return actions
        """#
    }
}
