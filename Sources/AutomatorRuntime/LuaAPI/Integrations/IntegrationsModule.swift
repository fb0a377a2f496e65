internal import CLua

/// The `integration { ... }` declaration of `scripts/integrations/*.lua`, and the drivers that
/// call an integration's `reputation` functions and its `actions`. An integration runs on an executor of its own,
/// whose `http` reaches only the hosts of its configured URLs and puts its secrets in for it
/// (see `Integrations`).
public struct IntegrationsModule: HostModule {
    public let name = "integrations"

    public init() {}

    /// `defined_at`, for the Lua part only (scripts see an empty table): where a reputation
    /// function that answered wrong is, for its error.
    public func register(in table: inout ModuleTable) {
        table.cFunction("defined_at", au_defined_at)
    }

    public var lua: String? {
        #"""
        local host = ...
        local error, type, pairs, setmetatable, tostring = error, type, pairs, setmetatable, tostring
        local declared = setmetatable({}, { __mode = "k" })
        local kinds = { ip = true, domain = true, url = true, file = true, email = true }

        local risks = { low = true, medium = true, high = true, critical = true }
        local parameter_types = { string = true, integer = true, number = true, boolean = true, ip = true, cidr = true,
                                  account = true, host = true }

        local function check_action(actions, name, action)
          local where = ("integration: actions.%s"):format(tostring(name))
          if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
            error(where .. ": an action's name is a word of letters, digits and _", 3)
          end
          if type(action) ~= "table" or type(action.run) ~= "function" then
            error(where .. " must be a table with run = function(params, context) ... end", 3)
          end
          if action.risk ~= nil and not risks[action.risk] then
            error(where .. ".risk must be low, medium, high or critical", 3)
          end
          if action.undo ~= nil and (type(action.undo) ~= "string" or type(actions[action.undo]) ~= "table") then
            error(where .. ".undo must name another action of this integration", 3)
          end
          if action.ttl ~= nil then
            if type(action.ttl) ~= "string" and type(action.ttl) ~= "number" then
              error(where .. '.ttl must be a duration such as "24h"', 3)
            end
            if action.undo == nil then error(where .. ".ttl needs an undo: it is what runs when the time is up", 3) end
          end
          if action.params ~= nil and type(action.params) ~= "table" then
            error(where .. '.params must be a table, as in params = { ip = { type = "ip", required = true } }', 3)
          end
          for param, spec in pairs(action.params or {}) do
            local kind = type(spec) == "table" and spec.type or spec
            if type(param) ~= "string" or not parameter_types[kind] then
              error(("%s.params.%s: type must be string, integer, number, boolean, ip, cidr, account or host")
                    :format(where, tostring(param)), 3)
            end
          end
        end

        function integration(definition)
          if type(definition) ~= "table" then error("integration expects a table, as in return integration { ... }", 2) end
          if type(definition.name) ~= "string" then error("integration: name must be a string", 2) end
          if definition.reputation == nil and definition.actions == nil then
            error("integration: give reputation = { ip = function ... }, actions = { block_ip = { ... } }, or both", 2)
          end
          if definition.reputation ~= nil and type(definition.reputation) ~= "table" then
            error("integration: reputation must be a table of functions by kind (ip, domain, url, file, email)", 2)
          end
          for kind, fn in pairs(definition.reputation or {}) do
            if not kinds[kind] or type(fn) ~= "function" then
              error(("integration: reputation.%s must be a function of ip, domain, url, file or email"):format(tostring(kind)), 2)
            end
          end
          if definition.actions ~= nil and type(definition.actions) ~= "table" then
            error("integration: actions must be a table of actions by name", 2)
          end
          for name, action in pairs(definition.actions or {}) do check_action(definition.actions, name, action) end
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
        --- `idempotency_key`, `incident`, `requested_by`, `approved_by`). Its one result (nil
        --- when it returned none) is the action's: the run's JSON is `[result]`.
        local function run_action(chunk, script, name, params, context)
          local action = (declaration(chunk, script).actions or {})[name]
          if action == nil then error(("%s has no action %s"):format(script, name), 0) end
          return (action.run(params, context))
        end

        return {}, { run_reputation = run_reputation, run_action = run_action,
                     declared = function(value) return declared[value] end }
        """#
    }
}
