internal import CLua

/// A table of host functions that scripts see as a global (`json`, `log`, `time`...).
///
/// Each run gets its own copy of the table on first use, so a script that changes it
/// changes only its own run.
public protocol HostModule {
    /// The global name, e.g. `json`.
    var name: String { get }
    /// Adds the module's functions and constants.
    func register(in table: inout ModuleTable)
    /// The Lua part of a module written partly in Lua (objects with methods over host functions),
    /// or nil. It runs once per state, after every module is registered, with the frozen base as
    /// its environment (what it assigns to globals is in every run) and the table `register`
    /// filled as `...`. It returns the table scripts see as `name`, and optionally a table of
    /// functions for the host only (`Sandbox.hostFunction(_:of:)`). Its chunk is named
    /// `=[host] NAME`: errors raised by host functions it calls name the script's line instead.
    var lua: String? { get }
}

extension HostModule {
    public var lua: String? { nil }
}

/// The table a `HostModule` fills, on top of the Lua stack while it registers.
public struct ModuleTable {
    let state: LuaState
    let moduleName: String

    /// Adds a function; scripts call it as `module.name(...)`.
    public mutating func function(_ name: String, _ body: @escaping HostFunction) {
        add(name, HostFunctionBox(name: "\(moduleName).\(name)", body: body))
    }

    /// Adds a function that suspends the run until what it returns is over (`HostWait`).
    ///
    /// - Parameter shownAs: the name its errors give, when the module's Lua part calls it for a
    ///   function of another name (`perform` for `run`): scripts never see the hidden one. Its
    ///   calls are recorded under `name`, as runs recorded before recorded them.
    public mutating func waitingFunction(_ name: String, shownAs: String? = nil, _ body: @escaping WaitingHostFunction) {
        add(name, HostFunctionBox(name: "\(moduleName).\(name)", shown: shownAs.map { "\(moduleName).\($0)" },
                                  waiting: body, state: state))
    }

    /// Adds a function that reads the outside world without waiting (the clock, say). In a
    /// durable run its results are recorded, and a replay returns them instead of calling it.
    public mutating func recordedFunction(_ name: String, _ body: @escaping (LuaCall) throws(HostError) -> [LuaValue]) {
        add(name, HostFunctionBox(name: "\(moduleName).\(name)", recorded: body, state: state))
    }

    /// Adds a function that checks a call against settings a restart may change (`actions.run`'s
    /// plan): when it passes, its answer is recorded as the clock's is, so that a replay takes the
    /// branch the run took; when it refuses, nothing is recorded, so that a replay checks again and
    /// a retry after a fix goes on. Runs recorded before it was recorded replay it unrecorded.
    public mutating func recordedCheck(_ name: String, _ body: @escaping (LuaCall) throws(HostError) -> [LuaValue]) {
        add(name, HostFunctionBox(name: "\(moduleName).\(name)", check: body, state: state))
    }

    /// Adds a C function (`au_defined_at`), for the module's Lua part.
    mutating func cFunction(_ name: String, _ function: lua_CFunction) {
        state.stack.push(name)
        lua_pushcclosure(state.L, function, 0)
        lua_rawset(state.L, -3)
    }

    private mutating func add(_ name: String, _ box: HostFunctionBox) {
        state.stack.push(name)
        state.push(box)
        lua_rawset(state.L, -3)
    }

    /// Adds a constant.
    public mutating func constant(_ name: String, _ value: LuaValue) throws(LuaError) {
        state.stack.push(name)
        try state.stack.push(value)
        lua_rawset(state.L, -3)
    }
}
