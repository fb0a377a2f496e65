internal import CLua

/// The `integration { ... }` declaration of `scripts/integrations/*.lua`, and the drivers that
/// call an integration's `reputation` functions and its `actions`. An integration runs on an executor of its own,
/// whose `http` reaches only the hosts of its configured URLs and puts its secrets in for it
/// (see `Integrations`).
public struct IntegrationsModule: HostModule {
    public let name = "integrations"

    public init() {}

    /// For the Lua part only (scripts see an empty table): `defined_at`, where a reputation
    /// function that answered wrong is, for its error; `is_duration`, a ttl read as a playbook's
    /// sla is, by the same parser: one it cannot read would leave the action with no expiry, a
    /// block that never lifts.
    public func register(in table: inout ModuleTable) {
        table.cFunction("defined_at", au_defined_at)
        table.function("is_duration") { call in
            call.push(boolean: DurationText.seconds(try call.string(1).description) != nil)
        }
    }

    public var lua: String? {
        #"""
        local host = ...
        local error, type, pairs, ipairs, setmetatable, tostring = error, type, pairs, ipairs, setmetatable, tostring
        local declared = setmetatable({}, { __mode = "k" })
        local kinds = { ip = true, domain = true, url = true, file = true, email = true }
        local risks = { low = true, medium = true, high = true, critical = true }
        local reliabilities = { A = true, B = true, C = true, D = true, E = true, F = true }
        local parameter_types = { string = true, integer = true, number = true, boolean = true, ip = true, cidr = true,
                                  account = true, host = true }
        -- The fields each part takes: one misspelt (requird, rn) would otherwise be ignored, and a
        -- safety declaration with it.
        local fields = {
          integration = { "actions", "config", "fetch", "name", "rate", "reliability", "reputation" },
          fetch = { "every", "opt_in", "run", "source" },
          action = { "description", "on_closed", "params", "risk", "run", "ttl", "undo" },
          setting = { "default", "env", "required", "secret" },
          param = { "description", "required", "type" },
          rate = { "per_day", "per_minute", "per_second" },
        }
        local known = {}
        for part, names in pairs(fields) do
          known[part] = {}
          for _, name in ipairs(names) do known[part][name] = true end
        end

        --- The keys of `t`, sorted, so that problems come in the same order every time.
        local function keys(t)
          local list = {}
          for key in pairs(t) do list[#list + 1] = key end
          table.sort(list, function(a, b) return tostring(a) < tostring(b) end)
          return list
        end

        --- Every problem of a declaration, each starting with the path of what it is about
        --- (`actions.block.risk must be ...`), which `automator check` finds the line of.
        local function problems_of(definition)
          local problems = {}
          local function add(text, ...) problems[#problems + 1] = "integration: " .. text:format(...) end
          -- The bad value as the playbook and command declarations quote it: a string quoted, a
          -- number or boolean as written, anything else by its type.
          local function got(value)
            if type(value) == "string" then return ("%q"):format(value) end
            if type(value) == "number" or type(value) == "boolean" then return tostring(value) end
            return type(value)
          end
          local function unknown_fields(where, t, part)
            for _, key in ipairs(keys(t)) do
              if not known[part][key] then
                add("%sunknown field %s: the fields are %s", where == "" and "" or where .. ": ", tostring(key),
                    table.concat(fields[part], ", "))
              end
            end
          end
          unknown_fields("", definition, "integration")
          if type(definition.name) ~= "string" then add("name must be a string, got %s", got(definition.name)) end
          if definition.reliability ~= nil and not reliabilities[definition.reliability] then
            add("reliability must be A, B, C, D, E or F (A the most reliable), got %s", got(definition.reliability))
          end
          if definition.reputation == nil and definition.actions == nil and definition.fetch == nil then
            add("give reputation = { ip = function ... }, actions = { block_ip = { ... } }, "
                .. "fetch = { every = \"1m\", run = function ... }, or several")
          end
          if definition.config ~= nil and type(definition.config) ~= "table" then
            add("config must be a table of settings by name, as in config = { token = { env = \"TOKEN\" } }, got %s",
                got(definition.config))
          end
          for _, key in ipairs(keys(type(definition.config) == "table" and definition.config or {})) do
            local spec, where = definition.config[key], "config." .. tostring(key)
            if type(spec) == "table" then
              unknown_fields(where, spec, "setting")
              if spec.env ~= nil and type(spec.env) ~= "string" then add("%s.env must be a variable's name, got %s", where, got(spec.env)) end
              for _, flag in ipairs({ "required", "secret" }) do
                if spec[flag] ~= nil and type(spec[flag]) ~= "boolean" then add("%s.%s must be true or false, got %s", where, flag, got(spec[flag])) end
              end
            elseif type(spec) ~= "string" and type(spec) ~= "number" and type(spec) ~= "boolean" then
              add("%s must be a default value or a table such as { env = \"NAME\", required = true }, got %s", where,
                  got(spec))
            end
          end
          if definition.rate ~= nil and type(definition.rate) ~= "table" then
            add("rate must be a table, as in rate = { per_minute = 4, per_day = 500 }, got %s", got(definition.rate))
          elseif definition.rate ~= nil then
            unknown_fields("rate", definition.rate, "rate")
            for _, period in ipairs(fields.rate) do
              local count = definition.rate[period]
              if count ~= nil and (math.type(count) ~= "integer" or count < 1) then
                add("rate.%s must be a whole number of requests above 0, got %s", period, got(count))
              end
            end
          end
          if definition.reputation ~= nil and type(definition.reputation) ~= "table" then
            add("reputation must be a table of functions by kind (ip, domain, url, file, email), got %s",
                got(definition.reputation))
          end
          for _, kind in ipairs(keys(type(definition.reputation) == "table" and definition.reputation or {})) do
            if not kinds[kind] then
              add("reputation.%s: unknown kind: the kinds are domain, email, file, ip, url", tostring(kind))
            elseif type(definition.reputation[kind]) ~= "function" then
              add("reputation.%s must be a function(%s, config), got %s", kind, kind, got(definition.reputation[kind]))
            end
          end
          if definition.fetch ~= nil and type(definition.fetch) ~= "table" then
            add('fetch must be a table, as in fetch = { every = "1m", run = function(context, cursor) ... end }, got %s',
                got(definition.fetch))
          elseif definition.fetch ~= nil then
            local fetch = definition.fetch
            unknown_fields("fetch", fetch, "fetch")
            if type(fetch.run) ~= "function" then
              add("fetch.run must be a function(context, cursor) returning { alerts = { ... }, cursor = ... }, got %s",
                  got(fetch.run))
            end
            if (type(fetch.every) ~= "string" and type(fetch.every) ~= "number") or not host.is_duration(tostring(fetch.every)) then
              add('fetch.every must be \#(DurationText.expected), got %s', got(fetch.every))
            end
            if fetch.source ~= nil and (type(fetch.source) ~= "string" or not fetch.source:match("^[%w_%-]+$")) then
              add("fetch.source must name a mapper of scripts/mappers (letters, digits, - and _), got %s", got(fetch.source))
            end
            if fetch.opt_in ~= nil and type(fetch.opt_in) ~= "boolean" then
              add("fetch.opt_in must be true (run only where the configuration says fetch: true) or false, got %s",
                  got(fetch.opt_in))
            end
          end
          if definition.actions ~= nil and type(definition.actions) ~= "table" then
            add("actions must be a table of actions by name, got %s", got(definition.actions))
          end
          local actions = type(definition.actions) == "table" and definition.actions or {}
          for _, name in ipairs(keys(actions)) do
            local action, where = actions[name], "actions." .. tostring(name)
            if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
              add("%s: an action's name is a word of letters, digits and _", where)
            elseif type(action) ~= "table" then
              add("%s must be a table with run = function(params, context) ... end, got %s", where, got(action))
            else
              unknown_fields(where, action, "action")
              if type(action.run) ~= "function" then
                add("%s.run must be a function(params, context), got %s", where, got(action.run))
              end
              if action.risk ~= nil and not risks[action.risk] then
                add("%s.risk must be low, medium, high or critical, got %s", where, got(action.risk))
              end
              if action.on_closed ~= nil and type(action.on_closed) ~= "boolean" then
                add("%s.on_closed must be true (it may run on a closed incident) or false, got %s", where,
                    got(action.on_closed))
              end
              if action.undo ~= nil and (type(action.undo) ~= "string" or type(actions[action.undo]) ~= "table") then
                add("%s.undo must name another action of this integration, got %s", where, got(action.undo))
              end
              if action.ttl ~= nil and ((type(action.ttl) ~= "string" and type(action.ttl) ~= "number")
                                        or not host.is_duration(tostring(action.ttl))) then
                add('%s.ttl must be \#(DurationText.expected), got %s', where, got(action.ttl))
              elseif action.ttl ~= nil and action.undo == nil then
                add("%s.ttl needs an undo: it is what runs when the time is up", where)
              end
              if action.params ~= nil and type(action.params) ~= "table" then
                add('%s.params must be a table, as in params = { ip = { type = "ip", required = true } }, got %s', where,
                    got(action.params))
              end
              local params = type(action.params) == "table" and action.params or {}
              for _, param in ipairs(keys(params)) do
                local spec, at = params[param], ("%s.params.%s"):format(where, tostring(param))
                if type(spec) == "table" then unknown_fields(at, spec, "param") end
                local kind = type(spec) == "table" and spec.type or spec
                if type(param) ~= "string" or not parameter_types[kind] then
                  add("%s: type must be string, integer, number, boolean, ip, cidr, account or host, got %s", at, got(kind))
                end
              end
            end
          end
          return problems
        end

        --- Declares an integration. Every mistake at once, one a line, without a place: the
        --- declaration is a tail call (`return integration { ... }`), whose line Lua no longer
        --- knows; `automator check` finds each one's line by the path it starts with.
        function integration(definition)
          if type(definition) ~= "table" then error("integration expects a table, as in return integration { ... }", 2) end
          local problems = problems_of(definition)
          if #problems > 0 then error(table.concat(problems, "\n"), 0) end
          declared[definition] = "integration"
          return definition
        end

        -- By chunk: an integration's executor binds each file once for all its calls (Executor.Core),
        -- so the file runs, and builds its declaration, once and not for every lookup and action.
        local definitions = setmetatable({}, { __mode = "k" })

        local function declaration(chunk, script)
          local definition = definitions[chunk]
          if definition ~= nil then return definition end
          definition = chunk()
          if declared[definition] ~= "integration" then
            error(("%s must return integration { name = ..., reputation = { ... }, actions = { ... } }"):format(script), 0)
          end
          definitions[chunk] = definition
          return definition
        end

        local scores = { unknown = true, benign = true, suspicious = true, malicious = true,
                         [0] = true, [1] = true, [2] = true, [3] = true }

        --- One lookup: the file returns its declaration, whose reputation function for `kind`
        --- gets the indicator and the configuration (secrets in it are placeholders). An answer
        --- that is no table, or whose score is none, is the function's mistake, told at its line.
        local function run_reputation(chunk, script, kind, value, config)
          local lookup = (declaration(chunk, script).reputation or {})[kind]
          if lookup == nil then return nil end
          local answer = lookup(value, config)
          local where = ("%s: reputation.%s"):format(host.defined_at(lookup) or script, kind)
          if type(answer) ~= "table" then
            error(('%s returned %s: return a table, as in { score = "malicious", reason = "..." }')
                  :format(where, answer == nil and "nil" or "a " .. type(answer)), 0)
          end
          if not scores[answer.score] then
            local score = type(answer.score) == "string" and ('score = "%s"'):format(answer.score)
                          or answer.score == nil and "no score" or "score = " .. tostring(answer.score)
            error(("%s returned %s: score must be unknown, benign, suspicious or malicious (or 0 to 3)")
                  :format(where, score), 0)
          end
          return answer
        end

        --- One action: its `run` gets the checked parameters and the context (`config`,
        --- `idempotency_key`, `incident`, `requested_by`, `approved_by`; for an undo, `result`: what
        --- the action it reverses returned). Its one result (nil
        --- when it returned none) is the action's: the run's JSON is `[result]`.
        local function run_action(chunk, script, name, params, context)
          local action = (declaration(chunk, script).actions or {})[name]
          if action == nil then error(("%s has no action %s"):format(script, name), 0) end
          return (action.run(params, context))
        end

        --- One fetch: `fetch.run` gets the context (`config`) and the cursor it returned last time
        --- (nil the first time). Its answer is checked here, at the function's line, and each alert
        --- is encoded as the body of `POST /api/v1/ingest/SOURCE` would be: the run's JSON is
        --- `[{ alerts = { "{...}", ... }, cursor = ..., more = ... }]`.
        local function run_fetch(chunk, script, context, cursor)
          local fetch = declaration(chunk, script).fetch
          if fetch == nil then error(("%s declares no fetch"):format(script), 0) end
          local answer = fetch.run(context, cursor)
          local where = ("%s: fetch.run"):format(host.defined_at(fetch.run) or script)
          if type(answer) ~= "table" or type(answer.alerts) ~= "table" then
            error(("%s returned %s: return a table, as in { alerts = { ... }, cursor = \"2024-05-01T10:00:00Z\" }")
                  :format(where, type(answer) == "table" and "no alerts list" or type(answer)), 0)
          end
          if answer.cursor ~= nil and type(answer.cursor) ~= "string" then
            error(("%s returned a %s cursor: the cursor is a string (a time, a page token), or nil to keep the one it got")
                  :format(where, type(answer.cursor)), 0)
          end
          local alerts = json.array({})
          for i, alert in ipairs(answer.alerts) do
            if type(alert) ~= "table" then
              error(("%s returned alert %d as a %s: each alert is a table, as the service answered it"):format(where, i, type(alert)), 0)
            end
            alerts[i] = json.encode(alert)
          end
          return { alerts = alerts, cursor = answer.cursor, more = answer.more == true }
        end

        return {}, { run_reputation = run_reputation, run_action = run_action, run_fetch = run_fetch,
                     declared = function(value) return declared[value] end }
        """#
    }
}
