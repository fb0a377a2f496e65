extension IncidentsModule {
    /// The objects over the host functions, and the declarations. Runs once per state with the
    /// frozen base as its environment: scripts reach none of these locals, and the shared
    /// metatables hide behind `__metatable`.
    public var lua: String? {
        #"""
        local host = ...
        local json, error, type, pairs, ipairs, setmetatable, tostring = json, error, type, pairs, ipairs, setmetatable, tostring

        local Incident, Task = {}, {}
        local incident_class = { __index = Incident, __metatable = false }
        local task_class = { __index = Task, __metatable = false }

        -- A custom field that is JSON's null is no field, as inc:update makes it (RFC 7386): so
        -- `inc.fields.user or "someone"` reads an alert's null as not given, where json.null, a
        -- value, would pass for a user.
        local function incident(data)
          if type(data.fields) == "table" then
            for name, value in pairs(data.fields) do
              if value == json.null then data.fields[name] = nil end
            end
          end
          return setmetatable(data, incident_class)
        end

        -- Sends a change; a new type or severity may move the SLA, which is then timed again.
        local function change(self, changes, fields_json)
          local due = host.update(self.id, changes, fields_json)
          if due then
            self.sla_due = due
            host.sla_moved(self.id, due)
          end
        end

        local function check(self, method)
          if type(self) ~= "table" or type(self.id) ~= "string" then
            error(("call it as inc:%s(...), with a colon"):format(method), 3)
          end
        end

        --- Adds a note to the incident's journal.
        function Incident:note(text)
          check(self, "note")
          if type(text) ~= "string" and type(text) ~= "number" then
            error("inc:note expects text, got " .. type(text), 2)
          end
          host.note(self.id, tostring(text))
        end

        --- Changes the properties given; `fields` is merged into the custom fields.
        function Incident:update(changes)
          check(self, "update")
          if type(changes) ~= "table" then error("inc:update expects a table of changes", 2) end
          local fields = changes.fields
          if fields ~= nil and type(fields) ~= "table" then error("fields must be a table", 2) end
          -- The custom fields go as JSON (json.null removes one), the rest as it is.
          local rest = {}
          for key, value in pairs(changes) do
            if key ~= "fields" then rest[key] = value end
          end
          if fields then rest.fields = true end
          change(self, rest, fields and json.encode(fields))
          for key, value in pairs(changes) do
            if key == "fields" then
              for name, field in pairs(value) do
                if field == json.null then self.fields[name] = nil else self.fields[name] = field end
              end
            else
              self[key] = value
            end
          end
          return self
        end

        local SEVERITY_RANK = { info = 1, low = 2, medium = 3, high = 4, critical = 5 }

        --- Raises the severity to `severity` with a note saying why; never lowers it.
        function Incident:raise(severity, why)
          check(self, "raise")
          if not SEVERITY_RANK[severity] then
            error("inc:raise expects a severity (info, low, medium, high, critical), got " .. tostring(severity), 2)
          end
          if SEVERITY_RANK[severity] <= SEVERITY_RANK[self.severity] then return false end
          host.note(self.id, ("Severity %s -> %s: %s."):format(self.severity, severity, tostring(why or "no reason given")))
          change(self, { severity = severity })
          self.severity = severity
          return true
        end

        --- Adds the labels the incident does not have yet; the others stay.
        function Incident:label(...)
          check(self, "label")
          local labels, have, added = {}, {}, false
          for i, label in ipairs(self.labels) do labels[i], have[label] = label, true end
          for _, label in ipairs({ ... }) do
            if type(label) ~= "string" then error("inc:label expects strings", 2) end
            if not have[label] then labels[#labels + 1], have[label], added = label, true, true end
          end
          if added then
            change(self, { labels = labels })
            self.labels = labels
          end
        end

        --- Creates a manual task; `t:wait()` waits for its answer.
        function Incident:task(spec)
          check(self, "task")
          return setmetatable(host.task(self.id, spec), task_class)
        end

        --- Closes the incident: `reason` (required) and `resolution`, what it turned out to be
        --- (true_positive, benign, false_positive or undetermined).
        function Incident:close(options)
          check(self, "close")
          local reason = type(options) == "table" and options.reason
          if type(reason) ~= "string" or reason == "" then
            error('inc:close needs a reason, as in inc:close{ reason = "a test mail", resolution = "benign" }', 2)
          end
          for key in pairs(options) do
            if key ~= "reason" and key ~= "resolution" then
              error(("inc:close takes reason and resolution, not %s"):format(tostring(key)), 2)
            end
          end
          local closed, refusal = pcall(host.close, self.id, reason, options.resolution)
          if not closed then
            -- Closed by someone else first: their close ends this run, killed (never returns).
            host.closed_first(self.id)
            error(refusal, 0)
          end
          self.status, self.close_reason, self.resolution = "closed", reason, options.resolution
          host.closed(self.id)
        end

        --- Keeps a file as evidence on the incident (the `evidence` module).
        function Incident:evidence(spec)
          check(self, "evidence")
          if evidence == nil then error("evidence is not available here: it needs a data folder (automator serve)", 2) end
          return evidence.add(self.id, spec)
        end

        function Incident:link(other)
          check(self, "link")
          local id = type(other) == "table" and other.id or other
          if type(id) ~= "string" then error("inc:link expects an incident or its id", 2) end
          host.link(self.id, id)
        end

        --- Suspends the run until a person completes the task; returns the answer.
        function Task:wait()
          if type(self) ~= "table" or type(self.id) ~= "string" then error("call it as t:wait(), with a colon", 2) end
          local answer = host.wait(self.id)
          self.status, self.answer = "done", answer
          return answer
        end

        local incidents = {}

        --- Past incidents by field or text, newest first.
        function incidents.find(query)
          local found = json.decode(host.find(query))
          for _, data in ipairs(found) do incident(data) end
          return found
        end

        --- The newest incident that mentions `indicator`, other than `except` (an incident id):
        --- `{ id, status, created_at, closed_at }`, or nil. What "seen in INC-12" needs, without
        --- reading whole incidents.
        function incidents.seen(indicator, except)
          if type(indicator) ~= "string" then error("incidents.seen expects an indicator, got " .. type(indicator), 2) end
          return host.seen(indicator, except)
        end

        function incidents.get(id)
          local text = host.get(id)
          return text and incident(json.decode(text))
        end

        --- Opens an incident (`title`, `type`, `severity` required; `details`, `owner`, `labels`,
        --- `fields`); the playbook that matches it starts, as for any new incident.
        function incidents.create(spec)
          if type(spec) ~= "table" then
            error('incidents.create expects a table, as in incidents.create{ title = "...", type = "phishing", severity = "high" }', 2)
          end
          if type(spec.labels) == "table" then json.array(spec.labels) end
          return incident(json.decode(host.create(json.encode(spec))))
        end

        --- Tasks, the most urgent first: of one incident (or all), `open` or `done` (or both).
        function incidents.tasks(incident_id, status)
          return json.decode(host.tasks(incident_id, status))
        end

        --- Completes a task with an answer (one of its choices, when it has some).
        function incidents.complete_task(task_id, answer)
          return json.decode(host.complete_task(task_id, answer))
        end

        --- Gives an open task to another person or team, journaled on its incident.
        function incidents.assign_task(task_id, owner)
          return json.decode(host.assign_task(task_id, owner))
        end

        \#(LuaDeclarations.source)

        function playbook(definition)
          return declare("playbook", definition, {
            name = { "string", required = true }, run = { "function", required = true },
            match = { "table", "function" }, priority = { "number" }, sla = { "string", "number" },
            on_sla_breach = { "function" }, approvals = { "table" },
          })
        end

        function mapper(definition)
          return declare("mapper", definition, {
            map = { "function", required = true }, dedup_window = { "string", "number" }, is_duplicate = { "function" },
          })
        end

        --- A playbook's run: the script returns its declaration, whose `entry` gets the incident.
        local function run_playbook(chunk, script, entry, data)
          local book = chunk()
          if declared[book] ~= "playbook" then
            error(("%s must return playbook { name = ..., run = function(inc) ... end }"):format(script), 0)
          end
          local handler = book[entry]
          if handler == nil then return nil end
          if book.approvals then host.approve_standing(json.encode(json.array(book.approvals))) end
          return handler(incident(data))
        end

        --- A hook script (such as hooks/sla_breach.lua) gets the incident as `...`.
        local function run_hook(chunk, data)
          return chunk(incident(data))
        end

        return incidents, { run_playbook = run_playbook, run_hook = run_hook, declared = function(value) return declared[value] end }
        """#
    }
}
