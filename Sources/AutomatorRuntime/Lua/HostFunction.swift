internal import CLua

/// A Swift function that Lua scripts call. It reads its arguments from `call`, pushes its
/// results, and returns how many it pushed; it fails by throwing (a `HostError` for a
/// message of its own), never by raising a Lua error.
public typealias HostFunction = (LuaCall) throws -> Int32

/// The arguments and results of one call of a host function.
public struct LuaCall {
    let stack: LuaStack
    private let function: Unmanaged<HostFunctionBox>

    init(L: OpaquePointer, function: Unmanaged<HostFunctionBox>) {
        self.stack = LuaStack(L: L)
        self.function = function
    }

    /// The host function's name as scripts see it, e.g. `json.decode`.
    public var name: String { function._withUnsafeGuaranteedRef { $0.name } }

    /// How many arguments the script passed.
    public var argumentCount: Int32 { stack.top }

    // MARK: Arguments

    public func integer(_ position: Int32) throws(HostError) -> Int64 {
        var isInteger: Int32 = 0
        let value = lua_tointegerx(stack.L, position, &isInteger)
        if isInteger != 0 { return value }
        if stack.type(at: position) == LUA_TNUMBER {
            throw .argument(position, "number has no integer representation")
        }
        throw expected("number", at: position)
    }

    public func number(_ position: Int32) throws(HostError) -> Double {
        var isNumber: Int32 = 0
        let value = lua_tonumberx(stack.L, position, &isNumber)
        if isNumber != 0 { return value }
        throw expected("number", at: position)
    }

    /// A string argument as bytes; numbers are accepted and converted, as Lua does.
    public func string(_ position: Int32) throws(HostError) -> LuaString {
        let type = stack.type(at: position)
        guard type == LUA_TSTRING || type == LUA_TNUMBER else { throw expected("string", at: position) }
        var length = 0
        let pointer = au_tostring(stack.L, position, &length)
        return LuaString(bytes: Array(UnsafeRawBufferPointer(start: pointer, count: length)))
    }

    public func boolean(_ position: Int32) -> Bool { lua_toboolean(stack.L, position) != 0 }

    public func isNoneOrNil(_ position: Int32) -> Bool { stack.type(at: position) <= LUA_TNIL }

    /// Any data argument, tables converted recursively.
    public func value(_ position: Int32) throws(HostError) -> LuaValue {
        do { return try stack.value(at: position) } catch { throw .argument(position, error.message) }
    }

    /// SHA-256 of the arguments' canonical encoding, which a replay compares with the record.
    /// Data arguments count by value, others (functions...) by type.
    func argumentsDigest() -> String {
        let count = argumentCount
        var values: [LuaValue?] = []
        var typeNames: [String] = []
        for position in stride(from: Int32(1), through: count, by: 1) {
            let value = try? stack.value(at: position)
            values.append(value)
            typeNames.append(value == nil ? stack.typeName(at: position) : "")  // only what has no value counts by type
        }
        return RunRecording.digest(of: RecordCoding.encodeArguments(values, typeNames: typeNames))
    }

    /// The error for an argument of the wrong type: `bad argument #N to 'f' (T expected, got U)`.
    func expected(_ type: String, at position: Int32) -> HostError {
        let actual = stack.type(at: position) == LUA_TNONE ? "no value" : stack.typeName(at: position)
        return .argument(position, "\(type) expected, got \(actual)")
    }

    // MARK: Results

    /// Pushes one result; returns 1 so that a host function can end with `return try call.push(x)`.
    @discardableResult
    public func push(_ value: LuaValue) throws(HostError) -> Int32 {
        do { try stack.push(value) } catch { throw HostError(error.message) }
        return 1
    }

    @discardableResult
    public func push(_ text: String) -> Int32 {
        stack.push(text)
        return 1
    }

    /// Pushes an integer result, without building a `LuaValue`; returns 1.
    @discardableResult
    public func push(integer: Int64) -> Int32 {
        if lua_checkstack(stack.L, 1) != 0 { lua_pushinteger(stack.L, integer) }
        return 1
    }

    /// Pushes a float result; returns 1.
    @discardableResult
    public func push(number: Double) -> Int32 {
        if lua_checkstack(stack.L, 1) != 0 { lua_pushnumber(stack.L, number) }
        return 1
    }

    /// Pushes a boolean result; returns 1.
    @discardableResult
    public func push(boolean: Bool) -> Int32 {
        if lua_checkstack(stack.L, 1) != 0 { lua_pushboolean(stack.L, boolean ? 1 : 0) }
        return 1
    }
}

/// A host function as Lua holds it: a light userdata upvalue of the trampoline points here.
///
/// One stored closure, called through `_withUnsafeGuaranteedRef`: no retain or release per
/// call (the hot path is a few dozen nanoseconds, so it shows).
final class HostFunctionBox {
    /// The name its calls are recorded under.
    let name: String
    /// The name its errors give: `name`, or the function scripts called when a module's Lua part
    /// calls this one for it.
    let shown: String
    let body: HostFunction

    init(name: String, shown: String? = nil, body: @escaping HostFunction) {
        self.name = name
        self.shown = shown ?? name
        self.body = body
    }

    /// A box for a waiting host function: it hands the wait to `state` and returns AU_HOST_WAIT.
    /// Whoever steps the run records the wait's outcome, when the run is durable.
    convenience init(name: String, shown: String? = nil, waiting: @escaping WaitingHostFunction, state: LuaState) {
        self.init(name: name, shown: shown) { [unowned(unsafe) state] call in
            guard lua_isyieldable(call.stack.L) != 0 else {
                throw HostError("cannot wait inside a metamethod, an iterator, or a function the host calls "
                    + "(such as a table.sort comparison): call it from plain code")
            }
            let digest = state.activeRun?.recording == nil ? "" : call.argumentsDigest()
            state.replaysCall = state.activeRun?.recording?.replays(name, arguments: digest) ?? false
            state.pendingWait = try waiting(call)
            state.pendingCall = (name, digest, shown ?? name)
            return AU_HOST_WAIT
        }
    }

    /// A box for a host function that reads the outside world without waiting (the clock): in a
    /// durable run its outcome is recorded, and a replay returns the record without calling it.
    convenience init(name: String, recorded body: @escaping (LuaCall) throws(HostError) -> [LuaValue], state: LuaState) {
        self.init(name: name) { [unowned(unsafe) state] call in
            let digest = state.activeRun?.recording == nil ? "" : call.argumentsDigest()
            let values = try Self.recorded(name: name, digest: digest, state: state) { () throws(HostError) in
                try body(call)
            }
            return try Self.push(values, to: call)
        }
    }

    /// A box for a check against the settings (`ModuleTable.recordedCheck`): a pass is recorded as
    /// the clock's answer is, and a replay returns it; a refusal is thrown unrecorded and
    /// unnumbered, so that a replay checks again. A record made before the check was recorded has
    /// another call where it comes (`RunRecording.predates`): there it passes unrecorded.
    convenience init(name: String, check body: @escaping (LuaCall) throws(HostError) -> [LuaValue], state: LuaState) {
        self.init(name: name) { [unowned(unsafe) state] call in
            guard let recording = state.activeRun?.recording else { return try Self.push(body(call), to: call) }
            let digest = call.argumentsDigest()
            if !recording.replays(name, arguments: digest) {
                let values = try body(call)
                if recording.predates(name) { return try Self.push(values, to: call) }
                // Past the record, recorded; in a replay whose first life was refused here, a divergence.
                return try Self.push(Self.recorded(name: name, digest: digest, state: state) { values }, to: call)
            }
            return try Self.push(Self.recorded(name: name, digest: digest, state: state) { [] }, to: call)
        }
    }

    private static func push(_ values: [LuaValue], to call: LuaCall) throws(HostError) -> Int32 {
        for value in values { try call.push(value) }
        return Int32(values.count)
    }

    /// The outcome of a call that does not wait: `body`'s, recorded, in a durable run that is
    /// past its record; the record's, in a replay; `body`'s alone in a run that is not durable.
    static func recorded(name: String, digest: String, state: LuaState, _ body: () throws(HostError) -> [LuaValue])
        throws(HostError) -> [LuaValue]
    {
        guard let recording = state.activeRun?.recording else { return try body() }
        switch recording.next(name, arguments: digest) {
        case nil:
            // Not an error the script may catch: the run stops as a kill does, through pcall.
            let divergence = recording.divergence ?? name
            state.killSwitch.kill(reason: "diverged: \(divergence)")
            throw HostError("the run diverged from its record: \(divergence)")
        case .replay(let record):
            let outcome: Result<[LuaValue], HostError>
            do { outcome = try RecordCoding.decode(record.result) } catch {
                throw HostError("the record of call \(record.sequence) cannot be read: the store is damaged")
            }
            return try outcome.get()
        case .live(let sequence):
            let outcome = Result { () throws(HostError) in try body() }
            recording.unwritten.append(recording.record(sequence, name: name, digest: digest, outcome: outcome))
            return try outcome.get()
        }
    }

    func call(_ L: OpaquePointer) -> Int32 {
        do {
            return try body(LuaCall(L: L, function: Unmanaged.passUnretained(self)))
        } catch let error as HostError {
            if let position = error.argument {
                LuaStack(L: L).push("bad argument #\(position) to '\(shown)' (\(error.message))")
            } else {
                LuaStack(L: L).push("\(shown): \(error.message)")
            }
        } catch {
            LuaStack(L: L).push("\(shown): \(error)")
        }
        return AU_HOST_ERROR
    }
}

/// The trampoline's one entry into Swift. It never raises: errors become AU_HOST_ERROR.
let hostDispatch: au_dispatch_fn = { L, function in
    Unmanaged<HostFunctionBox>.fromOpaque(function!)._withUnsafeGuaranteedRef { $0.call(L!) }
}

/// Releases the Swift object of a host userdata that Lua collected.
let hostRelease: au_release_fn = { object in
    Unmanaged<AnyObject>.fromOpaque(object!).release()
}
