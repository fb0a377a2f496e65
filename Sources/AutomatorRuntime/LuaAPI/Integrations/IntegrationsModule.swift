/// The `integration { ... }` declaration of `scripts/integrations/*.lua`, and the drivers that
/// call an integration's `reputation` functions and its `actions`. An integration runs on an executor of its own,
/// whose `http` reaches only the hosts of its configured URLs and puts its secrets in for it
/// (see `Integrations`).
public struct IntegrationsModule: HostModule {
    public let name = "integrations"

    public init() {}

    public func register(in table: inout ModuleTable) {
        // A ttl is read as a playbook's sla is, by the same parser: one it cannot read would
        // leave the action with no expiry, a block that never lifts.
        table.function("is_duration") { call in
            call.push(boolean: DurationText.seconds(try call.string(1).description) != nil)
        }
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
            if (type(action.ttl) ~= "string" and type(action.ttl) ~= "number") or not host.is_duration(tostring(action.ttl)) then
              error(('%s.ttl must be \#(DurationText.expected), got "%s"'):format(where, tostring(action.ttl)), 3)
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

        --- One lookup: the file returns its declaration, whose reputation function for `kind`
        --- gets the indicator and the configuration (secrets in it are placeholders).
        local function run_reputation(chunk, script, kind, value, config)
          local lookup = (declaration(chunk, script).reputation or {})[kind]
          if lookup == nil then return nil end
          return lookup(value, config)
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
