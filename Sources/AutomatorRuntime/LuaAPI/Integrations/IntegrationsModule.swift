/// The `integration { ... }` declaration of `scripts/integrations/*.lua`, and the driver that
/// calls an integration's `reputation` function. An integration runs on an executor of its own,
/// whose `http` reaches only the hosts of its configured URLs and puts its secrets in for it
/// (see `Integrations`).
public struct IntegrationsModule: HostModule {
    public let name = "integrations"

    public init() {}

    public func register(in table: inout ModuleTable) {}

    public var lua: String? {
        #"""
        local error, type, pairs, setmetatable = error, type, pairs, setmetatable
        local declared = setmetatable({}, { __mode = "k" })
        local kinds = { ip = true, domain = true, url = true, file = true, email = true }

        function integration(definition)
          if type(definition) ~= "table" then error("integration expects a table, as in return integration { ... }", 2) end
          if type(definition.name) ~= "string" then error("integration: name must be a string", 2) end
          if type(definition.reputation) ~= "table" then
            error("integration: reputation must be a table of functions by kind (ip, domain, url, file, email)", 2)
          end
          for kind, fn in pairs(definition.reputation) do
            if not kinds[kind] or type(fn) ~= "function" then
              error(("integration: reputation.%s must be a function of ip, domain, url, file or email"):format(tostring(kind)), 2)
            end
          end
          declared[definition] = "integration"
          return definition
        end

        --- One lookup: the file returns its declaration, whose reputation function for `kind`
        --- gets the indicator and the configuration (secrets in it are placeholders).
        local function run_reputation(chunk, script, kind, value, config)
          local definition = chunk()
          if declared[definition] ~= "integration" then
            error(("%s must return integration { name = ..., reputation = { ... } }"):format(script), 0)
          end
          local lookup = definition.reputation[kind]
          if lookup == nil then return nil end
          return lookup(value, config)
        end

        return {}, { run_reputation = run_reputation, declared = function(value) return declared[value] end }
        """#
    }
}
