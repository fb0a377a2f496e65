internal import CLua
import Dispatch
import Foundation

/// Evaluates the declarations of playbooks and mappers outside the durable runs: reads what a
/// playbook file declares, asks a playbook's `match` function, turns an alert into an incident
/// with a mapper. One sandbox on its own serial queue (its waits block that queue's thread,
/// never Swift's cooperative pool); each file is loaded in a fresh environment; each call is
/// held to a few seconds and a memory cap.
final class ScriptEvaluator: @unchecked Sendable {
    private let queue = DispatchQueue(label: "automator.scripts")
    private let sandbox: Sandbox
    private let inspector: [String: LuaReference]
    /// By kind of declaration, the function of the module that declares it which tells its tables.
    private let declared: [String: LuaReference]
    private static let limits = Limits(memory: 256 << 20, timeout: .seconds(5))
    private static let declaringModules = ["playbook": "incidents", "mapper": "incidents", "integration": "integrations",
                                           "chat": "chat"]
    /// Whether a file's `print`s are dropped: a check reads what it declares, and what it prints
    /// is its run's to print (`automator run --incident` printed a playbook's top level twice).
    private let quiet: Bool

    /// - Parameters:
    ///   - modules: those the scripts use, and those that declare the kinds to read
    ///     (`IncidentsModule` for playbooks and mappers, `IntegrationsModule` for integrations,
    ///     `ChatModule` for chat commands).
    ///   - modulePaths: where `require` looks.
    ///   - quiet: whether the files' `print`s are dropped (a check's evaluator).
    init(modules: [any HostModule], modulePaths: [String] = [], quiet: Bool = false) throws(LuaError) {
        sandbox = try Sandbox(modules: modules, modulePaths: modulePaths)
        self.quiet = quiet
        var declared: [String: LuaReference] = [:]
        for (kind, module) in Self.declaringModules {
            if let function = sandbox.hostFunction("declared", of: module) { declared[kind] = function }
        }
        self.declared = declared
        let environment = try sandbox.makeEnvironment()
        let chunk = try sandbox.load(Array(Self.inspectorSource.utf8), chunkName: "\(AU_HOST_CHUNK) catalog", in: environment)
        let sandbox = self.sandbox
        inspector = try sandbox.call(chunk.reference, limits: Self.limits) { stack, first, _ throws(LuaError) in
            var functions: [String: LuaReference] = [:]
            lua_pushnil(stack.L)
            while lua_next(stack.L, first) != 0 {
                let name = stack.bytes(at: -2).map { String(decoding: $0, as: UTF8.self) } ?? ""
                lua_xmove(stack.L, sandbox.state.L, 1)
                functions[name] = sandbox.state.reference()
            }
            return functions
        }
    }

    deinit {
        // The state's own references are let go on the queue too, after the declarations let go
        // before: let go here, on the caller's thread, they raced those (a double free at exit).
        nonisolated(unsafe) let held = (sandbox, inspector, declared)
        queue.async { withExtendedLifetime(held) {} }
    }

    /// A declaration kept to be called again (a playbook's `match`, a mapper).
    ///
    /// Its holder (the catalog, any caller that drops one) lets it go on whatever thread it runs
    /// on, and freeing its registry slot is a write to the Lua state: it is freed on the queue,
    /// as every other use of the state is. Freed in place, beside a call on the queue, it
    /// corrupted the state (a Lua panic that aborted serve under 256 ingests at once).
    final class Declaration: @unchecked Sendable {
        fileprivate let reference: LuaReference
        private let queue: DispatchQueue

        fileprivate init(reference: LuaReference, queue: DispatchQueue) {
            self.reference = reference
            self.queue = queue
        }

        deinit {
            nonisolated(unsafe) let reference = reference  // handed to the queue, its one user from now on
            queue.async { withExtendedLifetime(reference) {} }
        }
    }

    /// Loads a file that must return `playbook { ... }` or `mapper { ... }`; returns what it
    /// declares, as JSON, and the declaration.
    func declaration(_ kind: String, source: [UInt8], path: String) async throws(LuaError) -> (String, Declaration) {
        try await perform { [self] () throws(LuaError) in
            guard let declared = declared[kind] else {
                throw LuaError(.runtime, "reading \(kind) declarations needs the \(Self.declaringModules[kind] ?? "?") module")
            }
            let chunk = try sandbox.load(source, chunkName: "@" + path, in: try fileEnvironment())
            return try sandbox.call(inspector[kind]!, leading: [.reference(chunk.reference), .reference(declared)],
                                    limits: Self.limits) { stack, first, _ throws(LuaError) in
                let json = stack.bytes(at: first).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                lua_pushvalue(stack.L, first + 1)
                lua_xmove(stack.L, sandbox.state.L, 1)
                return (json, Declaration(reference: sandbox.state.reference(), queue: queue))
            }
        }
    }

    /// What a script file returns, as JSON (`sla.lua`).
    func value(source: [UInt8], path: String) async throws(LuaError) -> String {
        try await perform { [self] () throws(LuaError) in
            let chunk = try sandbox.load(source, chunkName: "@" + path, in: try fileEnvironment())
            return try string(inspector["value"]!, [.reference(chunk.reference)])
        }
    }

    /// Calls a declaration's function through the inspector (`matches`, `map`, `is_duplicate`)
    /// with JSON arguments; returns its result as text (`true`, `false`, or JSON).
    func call(_ function: String, on declaration: Declaration, json arguments: String) async throws(LuaError) -> String {
        try await perform { [self] () throws(LuaError) in
            try string(inspector[function]!, [.reference(declaration.reference)], arguments: arguments)
        }
    }

    /// A fresh environment for a file; with `quiet`, its `print` prints nothing.
    private func fileEnvironment() throws(LuaError) -> Environment {
        let environment = try sandbox.makeEnvironment()
        if quiet {
            let silence = try sandbox.load(Array("print = function() end".utf8), chunkName: "=quiet", in: environment)
            _ = try sandbox.run(silence, limits: Self.limits)
        }
        return environment
    }

    private func string(_ function: LuaReference, _ leading: [LuaRun.Leading], arguments: String = "[]")
        throws(LuaError) -> String
    {
        try sandbox.call(function, leading: leading, jsonArguments: Array(arguments.utf8), limits: Self.limits) {
            stack, first, count in
            count > 0 ? stack.bytes(at: first).map { String(decoding: $0, as: UTF8.self) } ?? "" : ""
        }
    }

    private func perform<T: Sendable>(_ work: @escaping @Sendable () throws(LuaError) -> T) async throws(LuaError) -> T {
        let result: Result<T, LuaError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(LuaError) { continuation.resume(returning: .success(try work())) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// The inspector: what the host reads from declarations, as JSON text.
    private static let inspectorSource = #"""
        local inspect = {}

        function inspect.playbook(chunk, declared)
          local book = chunk()
          if declared(book) ~= "playbook" then
            error("the file must return playbook { name = ..., run = function(inc) ... end }", 0)
          end
          local info = {
            name = book.name, priority = book.priority or 0, sla = book.sla,
            match_function = type(book.match) == "function", on_sla_breach = book.on_sla_breach ~= nil,
          }
          if type(book.match) == "table" then
            info.match = {}
            for field, value in pairs(book.match) do
              if type(field) ~= "string" then error("match names fields, as in match = { type = \"phishing\" }", 0) end
              local values = json.array({})
              for i, each in ipairs(type(value) == "table" and value or { value }) do values[i] = tostring(each) end
              info.match[field] = values
            end
          end
          return json.encode(info), book
        end

        function inspect.mapper(chunk, declared)
          local mapper = chunk()
          if declared(mapper) ~= "mapper" then
            error("the file must return mapper { map = function(alert) ... end }", 0)
          end
          return json.encode({ dedup_window = mapper.dedup_window, is_duplicate = mapper.is_duplicate ~= nil }), mapper
        end

        function inspect.integration(chunk, declared)
          local definition = chunk()
          if declared(definition) ~= "integration" then
            error("the file must return integration { name = ..., reputation = { ... }, actions = { ... } }", 0)
          end
          local kinds = json.array({})
          for kind in pairs(definition.reputation or {}) do kinds[#kinds + 1] = kind end
          table.sort(kinds)
          local actions = {}
          for name, action in pairs(definition.actions or {}) do
            local params = {}
            for param, spec in pairs(action.params or {}) do
              if type(spec) ~= "table" then spec = { type = spec } end
              params[param] = { type = spec.type, required = spec.required == true, description = spec.description }
            end
            actions[name] = { risk = action.risk, undo = action.undo, ttl = action.ttl and tostring(action.ttl),
                              on_closed = action.on_closed, description = action.description, params = params }
          end
          local config = {}
          for key, spec in pairs(definition.config or {}) do
            if type(spec) ~= "table" then spec = { default = spec } end
            config[key] = { default = spec.default and tostring(spec.default), secret = spec.secret == true,
                            env = spec.env, required = spec.required == true }
          end
          local fetch = definition.fetch and { every = tostring(definition.fetch.every), source = definition.fetch.source,
                                               opt_in = definition.fetch.opt_in }
          return json.encode({ name = definition.name, reliability = definition.reliability, kinds = kinds,
                               config = config, rate = definition.rate or {}, actions = actions, fetch = fetch }), definition
        end

        function inspect.chat(chunk, declared)
          local definition = chunk()
          local kind = declared(definition)
          if kind == "command" then
            local roles, by_word = json.array({}), {}
            for key, value in pairs(definition.roles or {}) do
              if type(key) == "string" then by_word[key:lower()] = json.array(value) else roles[#roles + 1] = value end
            end
            return json.encode({ kind = kind, name = definition.name, usage = definition.usage or ("!" .. definition.name),
                                 help = definition.help or "", roles = roles, roles_by_word = by_word }), definition
          end
          if kind == "watch" then return json.encode({ kind = kind }), definition end
          error("the file must return command { name = ..., run = function(msg, args) ... end } "
                .. "or watch { run = function(msg, options) ... end }", 0)
        end

        function inspect.matches(book, incident)
          return book.match(incident) and "true" or "false"
        end

        function inspect.map(mapper, alert)
          local incident = mapper.map(alert)
          if type(incident) ~= "table" then error("map must return the incident as a table, got " .. type(incident), 0) end
          if type(incident.labels) == "table" then json.array(incident.labels) end
          return json.encode(incident)
        end

        function inspect.is_duplicate(mapper, new, existing)
          return mapper.is_duplicate(new, existing) and "true" or "false"
        end

        function inspect.value(chunk)
          return json.encode(chunk())
        end

        return inspect
        """#
}
