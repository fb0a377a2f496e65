extension TestingModule {
    /// The test API (`test`, `stub`, `run`, `expect`, `advance`) and the stubs of the modules that
    /// reach the outside world. What is ours runs for real: the incident, its tasks and journal
    /// live in a store of the test's own, through the real `incidents` module. Runs once per state,
    /// in the frozen base; each test has a state of its own, so nothing leaks between tests.
    var lua: String? {
        #"""
        local host = ...
        local json, error, pcall, type, pairs, ipairs = json, error, pcall, type, pairs, ipairs
        local tostring, tonumber, next = tostring, tonumber, next
        local table, math, os, incidents, intel, time, http = table, math, os, incidents, intel, time, http

        -- What the scripts under test did with the outside world, for the assertions.
        local seen = { intel = {}, http = {}, posts = {}, questions = {}, actions = {} }
        -- The test's action records, numbered as kept (ACT-test1, ...): actions.run's calls, by id,
        -- and the refusals of those the checks refused, which are no call of result.actions.
        local calls, kept_actions = {}, 0
        local function next_action_id()
          kept_actions = kept_actions + 1
          return ("ACT-test%d"):format(kept_actions)
        end
        -- Canned answers, by kind.
        local canned = { intel = {}, http = {}, chat = {}, actions = {} }
        -- The id of the incident a playbook (or its SLA hook) runs on: its journal keeps the questions asked.
        local playing

        --- A value as a message shows it: strings quoted on one line, tables in full (keys sorted).
        local function show(value, depth)
          if type(value) == "string" then return '"' .. value:gsub("[\\\"]", "\\%0"):gsub("\n", "\\n") .. '"' end
          if type(value) ~= "table" then return tostring(value) end
          depth = depth or 0
          if depth > 3 then return "{...}" end
          local keys, parts = {}, {}
          for key in pairs(value) do
            if math.type(key) ~= "integer" or key < 1 or key > #value then keys[#keys + 1] = key end
          end
          table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
          for _, item in ipairs(value) do parts[#parts + 1] = show(item, depth + 1) end
          for _, key in ipairs(keys) do
            local name = type(key) == "string" and key:match("^[%a_][%w_]*$") and key or ("[" .. show(key) .. "]")
            parts[#parts + 1] = name .. " = " .. show(value[key], depth + 1)
          end
          return "{ " .. table.concat(parts, ", ") .. " }"
        end

        local function same(a, b)
          if a == b then return true end
          if type(a) ~= "table" or type(b) ~= "table" then return false end
          for key, value in pairs(a) do if not same(value, b[key]) then return false end end
          for key in pairs(b) do if a[key] == nil then return false end end
          return true
        end

        -- MARK: Stubs

        stub = {}

        --- stub.intel{ ["203.0.113.7"] = "malicious", ["example.org"] = { verdict = "benign", summary = "ours" } }
        function stub.intel(verdicts)
          if type(verdicts) ~= "table" or type(next(verdicts) or "") ~= "string" then
            error('stub.intel expects a table of verdicts by indicator, as in stub.intel{ ["203.0.113.7"] = "malicious" }', 2)
          end
          for value, verdict in pairs(verdicts) do
            if type(verdict) == "string" then verdict = { verdict = verdict } end
            local score = ({ unknown = 0, benign = 1, suspicious = 2, malicious = 3 })[verdict.verdict]
            if not score then
              error(("stub.intel: the verdict on %s must be unknown, benign, suspicious or malicious, got %s")
                :format(value, show(verdict.verdict)), 2)
            end
            canned.intel[value:lower()] = { verdict = verdict.verdict, score = score,
              summary = verdict.summary or (verdict.verdict .. ": stubbed by the test"),
              sources = { { source = "stub", verdict = verdict.verdict, reliability = "A", reason = verdict.summary or "" } } }
          end
        end

        --- stub.task("Confirm with the reporter", "phishing", { after = "3h" })
        function stub.task(title, answer, options)
          if type(title) ~= "string" or type(answer) ~= "string" then
            error('stub.task expects a title and an answer, as in stub.task("Confirm with the reporter", "phishing")', 2)
          end
          host.answer_task(title, answer, options and options.after)
        end

        --- stub.http("GET https://api.example.com/v1/x", { status = 200, body = { ok = true } }): the
        --- first request whose "METHOD URL" (or URL) starts with the key gets the response.
        function stub.http(request, response)
          if type(request) ~= "string" then error('stub.http expects a request such as "GET https://api.example.com/"', 2) end
          if type(response) == "string" then response = { body = response } end
          if type(response) ~= "table" then error("stub.http expects a response: a body, or { status, headers, body }", 2) end
          local body = response.body or ""
          if type(body) == "table" then body = json.encode(body) end
          canned.http[#canned.http + 1] = { request = request,
            response = { status = response.status or 200, headers = response.headers or {}, body = body } }
        end

        --- stub.chat("Block the sender", "approve"): the question that contains the text gets the answer.
        function stub.chat(question, answer, by)
          if type(question) ~= "string" or type(answer) ~= "string" then
            error('stub.chat expects a question and an answer, as in stub.chat("Block the sender", "approve")', 2)
          end
          canned.chat[#canned.chat + 1] = { question = question, answer = answer, by = by or "stub" }
        end

        --- stub.action("checkpoint.block_ip", { status = "done", result = { uid = "h-1" } }): how the
        --- action ends, as actions.run tells it: `done` (the record), `failed` (nil and the error:
        --- `result`, its text, or `error`, the table the integration raised, which the playbook gets
        --- as a server gives it), `planned` (the record, as a dry run). `false` and a reason stand
        --- for an approval denied or timed out: no question is asked, and actions.run returns nil
        --- and the reason (`stub.action(name, false, "nobody approved it in time")`). An action with
        --- no stub is planned: recorded, nothing sent, as a dry run.
        local stubbed_fields = { status = true, result = true, error = true, expires_at = true }
        function stub.action(name, outcome, reason)
          if type(name) ~= "string" or (outcome ~= nil and outcome ~= false and type(outcome) ~= "table") then
            error('stub.action expects an action and its outcome, as in stub.action("checkpoint.block_ip", '
                  .. '{ status = "done" }) or stub.action("checkpoint.block_ip", false, "denied by alice")', 2)
          end
          local problem = host.check_action(name)
          if problem then error("stub.action: " .. problem, 2) end
          for key in pairs(outcome or {}) do
            if not stubbed_fields[key] then
              error(("stub.action: unknown field %s: the fields are error, expires_at, result, status"):format(
                tostring(key)), 2)
            end
          end
          local status = outcome and outcome.status
          if outcome and status ~= "done" and status ~= "failed" and status ~= "planned" then
            error(('stub.action: status must be "done", "failed" or "planned", got %s; an action nobody approved '
                   .. 'is stub.action(name, false, "denied by alice")'):format(show(status)), 2)
          end
          if status == "failed" and type(outcome.result) == "table" then
            error('stub.action: a failed action\'s result is its text; the table its integration raised is error, '
                  .. 'as in { status = "failed", error = { code = "quota", retry_after = 30 } }', 2)
          end
          if outcome and outcome.error ~= nil then
            if status ~= "failed" or type(outcome.error) ~= "table" or outcome.result ~= nil then
              error('stub.action: error is the table a failed action\'s integration raised, its text made from it as '
                    .. 'on a server: { status = "failed", error = { code = "quota", retry_after = 30 } }', 2)
            end
            -- As a server passes it on: through JSON, so a value JSON cannot hold fails here, not in the playbook.
            local ok, problem = pcall(json.encode, outcome.error)
            if not ok then error("stub.action: error must be a table JSON can hold: " .. tostring(problem), 2) end
          end
          canned.actions[name] = { outcome = outcome, reason = reason }
        end

        -- MARK: The outside world, stubbed

        local real_time, real_date = os.time, os.date
        function time.now() return host.now() end
        function time.sleep(seconds)
          if type(seconds) ~= "number" or seconds < 0 then error("time.sleep expects seconds, got " .. show(seconds), 2) end
          host.advance(seconds)
        end
        function os.time(date) if date == nil then return math.floor(host.now()) end return real_time(date) end
        function os.date(format, at) return real_date(format or "%c", at or math.floor(host.now())) end

        function intel.reputation(value, kind)
          if type(value) ~= "string" then error("intel.reputation expects an indicator", 2) end
          seen.intel[#seen.intel + 1] = value
          return canned.intel[value:lower()] or { verdict = "unknown", score = 0,
            summary = "unknown: the test stubs no verdict (stub.intel)", sources = {} }
        end
        function intel.reputations(indicators)
          if type(indicators) ~= "table" then error("intel.reputations expects a list of indicators", 2) end
          local verdicts = {}
          for i, each in ipairs(indicators) do
            verdicts[i] = intel.reputation(type(each) == "table" and each.value or each)
          end
          return verdicts
        end

        -- Each stub raises its errors at the line of the script that called it (level 3: the
        -- stub, then the module function; no tail calls, which would drop a level).
        local function respond(method, url, options)
          local request = method .. " " .. tostring(url)
          seen.http[#seen.http + 1] = { method = method, url = url, body = options and options.body }
          for _, stubbed in ipairs(canned.http) do
            if request:sub(1, #stubbed.request) == stubbed.request or tostring(url):sub(1, #stubbed.request) == stubbed.request then
              return stubbed.response
            end
          end
          error(("%s is not stubbed: add stub.http(%q, { status = 200, body = ... })"):format(request, request), 3)
        end
        function http.get(url, options)
          local response = respond("GET", url, options)
          return response
        end
        function http.post(url, body, options)
          local response = respond("POST", url, { body = body, headers = options and options.headers })
          return response
        end
        function http.request(options)
          local response = respond(options.method or "GET", options.url, options)
          return response
        end

        --- The stubbed answer to a question, who gave it and the question's id (`Q-test1` for the
        --- test's first); raised at `level` (the caller of chat.ask by default) when none. With
        --- --config, only the answer of someone chat.roles gives one of the question's `roles`
        --- counts (the role approver for one asked for none that offers exactly approve and deny: an
        --- approval, whether chat.approve or chat.ask asked it), as on the server, where anyone
        --- else's is refused and the question stays open until its `timeout` (seconds), when
        --- automator answers "timeout".
        local function answer(channel, question, choices, level, options)
          if options.note ~= nil then question = tostring(question) .. "\n" .. tostring(options.note) end
          -- Journaled on the running playbook's incident, as the server's chat does.
          local id, list = ("Q-test%d"):format(#seen.questions + 1), json.encode(json.array(choices))
          seen.questions[#seen.questions + 1] = { id = id, channel = channel, text = question, choices = choices }
          local roles = options.roles ~= nil and json.encode(json.array(options.roles)) or nil
          local where = channel == nil and "(no channel)" or tostring(channel)
          host.question(playing, id, where, tostring(question), list, roles)
          local refused, holders
          for _, stubbed in ipairs(canned.chat) do
            if tostring(question):find(stubbed.question, 1, true) then
              refused, holders = host.refused(stubbed.by, list, roles)
              host.question(playing, id, where, tostring(question), list, roles,
                            stubbed.answer, stubbed.by, refused ~= nil)
              if not refused then return stubbed.answer, stubbed.by, id end
            end
          end
          if refused and options.timeout then
            host.question(playing, id, where, tostring(question), list, roles, nil, nil, nil, options.timeout)
            host.advance(options.timeout)
            return "timeout", "automator", id
          end
          if refused then
            local who = holders == "approver" and "an approver" or ("someone with the role " .. holders)
            error(("the question %q has no answer %s gave (%s): add stub.chat(%q, %q, \"slack:NAME\") "
                   .. "with a name chat.roles gives the role %s"):format(question, who, refused, question, choices[1],
                   holders), level or 3)
          end
          error(("the question %q is not answered: add stub.chat(%q, %q)"):format(question, question, choices[1]), level or 3)
        end

        --- chat.ask's and chat.approve's options, checked as the chat module checks them.
        local function ask_options(options, name)
          if options ~= nil and type(options) ~= "table" then error(name .. ": options must be a table", 3) end
          options = options or {}
          if options.timeout ~= nil and (type(options.timeout) ~= "number" or options.timeout <= 0) then
            error("options.timeout must be a number of seconds above 0", 3)
          end
          return options
        end

        chat = {}
        function chat.post(channel, text)
          seen.posts[#seen.posts + 1] = { channel = channel, text = tostring(text) }
        end
        function chat.upload(channel, name)
          seen.posts[#seen.posts + 1] = { channel = channel, text = "(file " .. tostring(name) .. ")" }
        end
        function chat.ask(channel, question, choices, options)
          local choice, by, id = answer(channel, question, choices, 3, ask_options(options, "chat.ask"))
          return choice, by, id
        end
        function chat.approve(channel, question, options)
          local choice, by, id = answer(channel, question, { "approve", "deny" }, 3,
                                        ask_options(options, "chat.approve"))
          return choice == "approve", by, id
        end

        -- The running playbook's standing approvals (`approvals = { ... }`), by action name.
        local standing = {}

        -- Response actions are never sent from a test: each call is checked against the integration's
        -- declaration, as a real one is, and recorded for `expect.action`.
        actions = {}
        \#(ActionOptions.source)

        \#(ActionFailure.source)

        --- A table an integration raised as a server's error report words it (`{code = "quota",
        --- retry_after = 30}`): its fields that are text, numbers or booleans, the first eight, here
        --- in the order of their names, where a server has the table's own.
        local function raised_text(raised)
          local names = {}
          for name, value in pairs(raised) do
            local kind = type(value)
            if (type(name) == "string" or type(name) == "number")
               and (kind == "string" or kind == "number" or kind == "boolean") then
              names[#names + 1] = name
            end
          end
          if #names == 0 then return "(error object is a table value)" end
          table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
          local shown = {}
          for i = 1, math.min(#names, 8) do
            local value = raised[names[i]]
            shown[i] = ("%s = %s"):format(tostring(names[i]),
                                          type(value) == "string" and ('"' .. value .. '"') or tostring(value))
          end
          if #names > 8 then shown[#shown + 1] = "..." end
          return "{" .. table.concat(shown, ", ") .. "}"
        end

        --- Parameters as the real actions.run sends them to the checks.
        local function encoded(params)
          if params == nil or next(params) == nil then return "{}" end
          return json.encode(params)
        end
        --- The checks of `fn` (actions.run or actions.plan) as the real ones: the plan (its
        --- approval standing when the running playbook holds it, the channel it is asked in),
        --- the options, and the incident's id. A refusal is an error at the playbook's line; one of
        --- actions.run (`kept`), not a dry run, is kept as a server keeps it (actions.history shows it).
        local function planned(fn, name, params, options, kept)
          if type(name) ~= "string" then
            error(('%s expects an action name, as in %s("checkpoint.block_ip", { ip = "198.51.100.7" })'):format(fn, fn), 3)
          end
          if params ~= nil and type(params) ~= "table" then
            error(fn .. ': params must be a table, as in { ip = "198.51.100.7" }', 3)
          end
          options = options_of(fn, options, 4)
          local ttl = options.ttl ~= nil and tostring(options.ttl) or nil
          local incident = type(options.incident) == "table" and options.incident.id or options.incident
          local problem, plan = host.check_action(name, encoded(params), ttl)
          if problem then
            if kept and options.dry_run ~= true then host.refuse(next_action_id(), name, encoded(params), incident, ttl) end
            error(fn .. ": " .. problem, 3)
          end
          plan = json.decode(plan)
          plan.name, plan.dry_run = name, options.dry_run == true
          if plan.approval == "required" and standing[name] then plan.approval = "standing" end
          plan.channel = options.channel or plan.channel or options.default_channel
          return plan, options, incident, ttl
        end
        function actions.plan(name, params, options)
          return (planned("actions.plan", name, params, options))
        end
        -- A test has no configuration, so every action the integrations declare is available: the
        -- path a playbook takes when one is not is the one it takes when it is denied (stub.action).
        function actions.available(name)
          if type(name) ~= "string" then
            error('actions.available expects an action name, such as "entra.disable_user"', 2)
          end
          local problem = host.check_action(name)
          if problem then error("actions.available: " .. problem, 2) end
          return true
        end
        function actions.run(name, params, options)
          local plan, incident, ttl
          plan, options, incident, ttl = planned("actions.run", name, params, options, true)
          local call = { name = name, params = params or {}, incident = incident, dry_run = options.dry_run == true }
          seen.actions[#seen.actions + 1] = call
          local id = next_action_id()
          calls[id] = call
          -- stub.action(name, false, why) stands for an approval denied or timed out: no question.
          -- A dry run asks no approval and sends nothing, whatever the test stubbed: planned, as on
          -- a server.
          local stubbed = not call.dry_run and canned.actions[name] or nil
          if stubbed and stubbed.outcome == false then
            call.denied = stubbed.reason or "denied (stub.action)"
            host.decline(id, name, encoded(params), incident, call.denied)
            return nil, call.denied
          end
          -- An action at the configured risk asks its approval as a real one does, unless the
          -- playbook holds a standing approval for it: stub.chat answers the question.
          local approved_by
          if plan.approval == "standing" then
            approved_by = "\#(ActionRecord.standingApproval)"
          elseif plan.approval == "required" and not call.dry_run then
            -- No channel (none given, no --config): nil, where a server would refuse the action.
            local choice, by
            choice, by, call.question = answer(plan.channel, approval_question(plan, incident), { "approve", "deny" }, 3,
                                               { timeout = plan.timeout, note = plan.note })
            if choice ~= "approve" then
              -- Only a question nobody answered in time is answered by automator.
              call.denied = by == "automator" and "\#(ActionService.nobodyApproved)" or ("denied by " .. tostring(by))
              host.decline(id, name, encoded(params), incident, call.denied, call.question)
              return nil, call.denied
            end
            approved_by = by
          end
          local record = { id = id, name = name, params = call.params, incident = incident, status = "planned",
                           approved_by = approved_by, ttl = plan.ttl, question = call.question }
          for key, value in pairs(stubbed and stubbed.outcome or {}) do record[key] = value end
          local raised = record.error
          record.error = nil
          local outcome = raised and raised_text(raised) or record.status == "failed" and tostring(record.result or "")
                          or (record.result ~= nil and json.encode(record.result) or nil)
          host.act(id, name, encoded(params), incident, approved_by, record.status, outcome, ttl, call.question)
          if record.status == "failed" then
            -- A copy through JSON, as a server's travels: the playbook's why is not the test's table.
            return nil, failure({ error = raised and json.decode(json.encode(raised)),
                                  result = ("%s failed: %s"):format(name, outcome) })
          end
          return record
        end
        --- The undos stub.action made fail, by name, with why, as their integration's error would say.
        local function failing_undos()
          local failing = {}
          for name, stubbed in pairs(canned.actions) do
            local outcome = stubbed.outcome
            if type(outcome) == "table" and outcome.status == "failed" then
              failing[name] = outcome.error and raised_text(outcome.error) or tostring(outcome.result or "failed (stub.action)")
            end
          end
          return failing
        end

        --- Marks the calls whose action the test's store has undone, for expect.action: also those a
        --- revert undid before it stopped at an undo that failed.
        local function mark_undone()
          for _, record in ipairs(json.decode(host.history())) do
            local call = calls[record.id]
            if call and record.status == "undone" then call.undone = true end
          end
        end

        --- Undoes the action `id`, or every done one of `incident`, as a server does, journaled alike;
        --- its undo is done unless stub.action gave that undo a failed outcome. Raises what a server
        --- raises, worded as a server's: under actions.undo, the host call both of its functions make.
        local function undo(id, incident)
          local ok, undone = pcall(host.undo, id, incident, json.encode(failing_undos()))
          mark_undone()
          if not ok then error((tostring(undone):gsub("^testing%.undo:", "actions.undo:")), 0) end
          return json.decode(undone)
        end
        function actions.undo(id)
          if type(id) ~= "string" then
            error('actions.undo expects an action id, as in actions.undo("ACT-test1")', 2)
          end
          return undo(id)[1]
        end
        function actions.revert_all(incident)
          local id = incident_of(incident, "actions.revert_all")
          if id == nil then error("actions.revert_all expects an incident", 2) end
          return undo(nil, id)
        end
        --- What the folder's integrations declare: every action, as a test has no configuration.
        function actions.list() return json.decode(host.list()) end
        --- The test's actions, newest first: all of them, or those of an incident.
        function actions.history(incident)
          local ok, history = pcall(host.history, incident_of(incident, "actions.history"))
          if not ok then error((tostring(history):gsub("^testing%.history:", "actions.history:")), 0) end
          return json.decode(history)
        end

        -- MARK: Running playbooks

        local policy, global_hook, close_hook = {}, nil, nil
        local books = {}

        --- Runs the SLA hooks of the incidents whose SLA the virtual clock passed.
        local function breach_hooks()
          for _, id in ipairs(host.breaches()) do
            local book, inc = books[id], incidents.get(id)
            playing = id
            if book and book.on_sla_breach then book.on_sla_breach(inc) elseif global_hook then global_hook(inc) end
            playing = nil
          end
        end

        --- What a playbook left: the incident as stored, its tasks, journal and notes, and what
        --- it asked of the outside world.
        local function outcome(id)
          local journal = host.journal(id)
          local notes = {}
          for _, entry in ipairs(journal) do if entry.kind == "note" then notes[#notes + 1] = entry.text end end
          local tasks = incidents.tasks(id)
          table.sort(tasks, function(a, b) return tonumber(a.id:match("%d+")) < tonumber(b.id:match("%d+")) end)
          return { incident = incidents.get(id), tasks = tasks, journal = journal, notes = notes,
                   evidence = host.evidence(id), posts = seen.posts, questions = seen.questions, intel = seen.intel,
                   http = seen.http, actions = seen.actions }
        end

        --- Opens an incident of `spec`, worked on by the playbook named `playbook` (or none).
        local function open(spec, playbook)
          local copy = { title = "Test incident", type = "test", severity = "medium" }
          for key, value in pairs(spec) do if key ~= "sla" then copy[key] = value end end
          if type(copy.labels) == "table" then json.array(copy.labels) end
          local sla = spec.sla or (policy[copy.type] or {})[copy.severity] or (policy.default or {})[copy.severity]
          return incidents.get(json.decode(host.open(json.encode(copy), sla, playbook)).id)
        end

        --- Opens an incident for the test (title, type and severity have defaults).
        function incident(spec)
          if type(spec) ~= "table" then error('incident expects a table, as in incident{ type = "phishing" }', 2) end
          return open(spec)
        end

        --- Runs `book.run` on a new incident made of `spec` (or on an incident from incident{}),
        --- to its end, then the SLA hooks the virtual clock called for; returns the outcome.
        function run(book, spec)
          if type(book) ~= "table" or type(book.run) ~= "function" then
            error('run expects a playbook, as in run(require("playbooks.phishing"), { type = "phishing" })', 2)
          end
          local id
          if type(spec) == "table" and type(spec.id) == "string" then
            id = spec.id
          else
            local with_sla = {}
            for key, value in pairs(spec or {}) do with_sla[key] = value end
            with_sla.sla = with_sla.sla or book.sla
            -- Named as the server names it, so that a new severity moves its SLA as there.
            id = open(with_sla, book.name).id
          end
          books[id] = book
          standing = {}
          for _, action in ipairs(book.approvals or {}) do standing[action] = true end
          playing = id
          local was_closed = incidents.get(id).status == "closed"
          book.run(incidents.get(id))
          standing = {}
          -- As on the server, a close starts hooks/incident_closed.lua on the closed incident.
          local after = incidents.get(id)
          if close_hook and not was_closed and after.status == "closed" then close_hook(after) end
          playing = nil
          breach_hooks()
          return outcome(id)
        end

        --- Moves the virtual clock on (a duration such as "5h"); SLAs it passes breach, and their
        --- hooks run. Returns the outcome of `result`'s incident again, when given one.
        function advance(duration, result)
          host.advance(duration)
          breach_hooks()
          return result and outcome(result.incident.id)
        end

        -- MARK: Assertions: each fails at the test's line that called it

        expect = {}

        function expect.equal(actual, expected, what)
          if not same(actual, expected) then
            error(("%sexpected %s, got %s"):format(what and (what .. ": ") or "", show(expected), show(actual)), 2)
          end
        end

        function expect.truthy(value, what)
          if not value then error(("%sexpected a true value, got %s"):format(what and (what .. ": ") or "", show(value)), 2) end
        end

        --- `text` contains `part` (plain text), or the list `text` has an element equal to `part`.
        function expect.contains(text, part, what)
          local found = false
          if type(text) == "string" then
            found = text:find(part, 1, true) ~= nil
          elseif type(text) == "table" then
            for _, item in ipairs(text) do found = found or same(item, part) end
          end
          if not found then
            error(("%sexpected %s to contain %s"):format(what and (what .. ": ") or "", show(text), show(part)), 2)
          end
        end

        local function find_note(result, part)
          for _, note in ipairs(result.notes) do if note:find(part, 1, true) then return note end end
        end

        --- A note of the outcome contains `part`; returns that note.
        function expect.note(result, part)
          local note = find_note(result, part)
          if not note then error(("no note contains %s; the notes are %s"):format(show(part), show(result.notes)), 2) end
          return note
        end

        function expect.no_note(result, part)
          local note = find_note(result, part)
          if note then error(("expected no note containing %s, got %s"):format(show(part), show(note)), 2) end
        end

        local function find_entry(result, part)
          for _, entry in ipairs(result.journal) do if entry.text:find(part, 1, true) then return entry end end
        end

        --- An entry of the outcome's journal contains `part` in its text; returns that entry. What
        --- the journal holds besides notes (actions, approvals, SLAs) is found here.
        function expect.journal(result, part)
          local entry = find_entry(result, part)
          if not entry then
            local entries = {}
            for _, each in ipairs(result.journal) do
              entries[#entries + 1] = ("%s by %s: %s"):format(each.kind, each.actor, each.text)
            end
            error(("no journal entry contains %s; the journal is %s"):format(show(part), show(entries)), 2)
          end
          return entry
        end

        function expect.no_journal(result, part)
          local entry = find_entry(result, part)
          if entry then
            error(("expected no journal entry containing %s, got %s by %s: %s"):format(show(part), entry.kind,
                                                                                       entry.actor, show(entry.text)), 2)
          end
        end

        --- The outcome has a task whose title starts with `title`; returns it.
        function expect.task(result, title)
          local titles = {}
          for _, task in ipairs(result.tasks) do
            if task.title:sub(1, #title) == title then return task end
            titles[#titles + 1] = task.title
          end
          error(("no task titled %s; the tasks are %s"):format(show(title), show(titles)), 2)
        end

        --- A chat post in `channel` contains `part`; returns it.
        function expect.post(result, channel, part)
          for _, post in ipairs(result.posts) do
            if post.channel == channel and post.text:find(part, 1, true) then return post end
          end
          error(("no post in %s contains %s; the posts are %s"):format(channel, show(part), show(result.posts)), 2)
        end

        --- The playbook called `actions.run(name, ...)`; with `params`, with parameters that include
        --- them (each one listed equal, those not listed not compared). Returns the call.
        function expect.action(result, name, params)
          local problem = host.check_action(name, params ~= nil and encoded(params) or nil)
          if problem then error("expect.action: " .. problem, 2) end
          local called = {}
          for _, call in ipairs(result.actions) do
            if call.name == name then
              local matches = true
              for key, value in pairs(params or {}) do matches = matches and same(call.params[key], value) end
              if matches then return call end
              called[#called + 1] = call.params
            end
          end
          if #called > 0 then
            error(("%s was called, not with %s: its parameters were %s"):format(name, show(params),
                                                                               show(#called == 1 and called[1] or called)), 2)
          end
          error(("no action %s; the actions are %s"):format(name, show(result.actions)), 2)
        end

        --- `body` fails with an error that contains `part`; returns the message.
        function expect.error(body, part)
          local ok, message = pcall(body)
          if ok then error(("expected an error containing %s, got none"):format(show(part)), 2) end
          message = tostring(message)
          if part and not message:find(part, 1, true) then
            error(("expected an error containing %s, got %s"):format(show(part), show(message)), 2)
          end
          return message
        end

        -- A misspelt check names the one it likely meant, at the test's line, rather than "attempt
        -- to call a nil value (field 'eqaul')". Protected, so each test's copy of expect keeps it.
        setmetatable(expect, { __metatable = false, __index = function(copy, name)
          local checks = {}
          for check in pairs(copy) do checks[#checks + 1] = check end
          table.sort(checks)
          local meant = type(name) == "string" and nearest(name, checks) or nil
          error(("expect has no %q: %s"):format(tostring(name), meant and ("did you mean %q?"):format(meant)
                or "the checks are " .. table.concat(checks, ", ")), 2)
        end })

        -- MARK: The runner's side

        -- The tests' names in the order declared, the line that declared each, the test to run
        -- (its place in `names`; none for 0) and the name of the test whose body is running.
        local names, lines, selected, running = {}, {}, 0, nil

        function test(name, body)
          if type(name) ~= "string" or type(body) ~= "function" then
            error('test expects a name and a function, as in test("closes a false positive", function() ... end)', 2)
          end
          -- The runner learns the names with no body running: a test declared in a body would never run.
          if running then
            error(("test() inside test '%s': declare tests at the top level of the file"):format(running), 2)
          end
          -- Where error(..., 2) would point: "file_test.lua:12: " (error, pcall, this function, its caller;
          -- none when the caller is not Lua).
          local _, where = pcall(error, "", 3)
          local line = where:match(":(%d+): $") or "?"
          if lines[name] then
            error(("test '%s' is declared twice, at lines %s and %s: give each test a name of its own")
              :format(name, lines[name], line), 2)
          end
          names[#names + 1], lines[name] = name, line
          if #names == selected then
            running = name
            body()
            running = nil
          end
        end

        --- Runs the test file `chunk` with its `index`-th test (none for 0); returns the names of
        --- its tests. `sla`, `hook` and `closed` are sla.lua, hooks/sla_breach.lua and
        --- hooks/incident_closed.lua, compiled, or false.
        local function run_file(chunk, sla, hook, closed, index)
          if sla then policy = sla() end
          if hook then global_hook = hook end
          if closed then close_hook = closed end
          selected = index
          chunk()
          return names
        end

        return nil, { run_file = run_file }
        """#
    }
}
