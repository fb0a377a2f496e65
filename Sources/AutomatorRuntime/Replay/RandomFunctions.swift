internal import CLua

/// `math.random` and `math.randomseed` over each run's own generator (`LuaRandom`).
///
/// A run's first use seeds its generator from the host's entropy, and that seed is a recorded
/// call (`math.randomseed`): a replay gets the seed back, hence every number again.
enum RandomFunctions {
    /// Replaces the two functions in the base's `math` table (on top of the stack).
    static func install(in state: LuaState) {
        let L = state.L
        lua_getfield(L, -1, "math")
        state.stack.push("random")
        state.push(HostFunctionBox(name: "math.random") { [unowned(unsafe) state] call in
            try random(call, run: try activeRun(state))
        })
        lua_rawset(L, -3)
        state.stack.push("randomseed")
        state.push(HostFunctionBox(name: "math.randomseed") { [unowned(unsafe) state] call in
            try randomseed(call, run: try activeRun(state))
        })
        lua_rawset(L, -3)
        au_pop(L, 1)
    }

    private static func activeRun(_ state: LuaState) throws(HostError) -> LuaRun {
        guard let run = state.activeRun else { throw HostError("no run is in progress") }
        return run
    }

    private static func random(_ call: LuaCall, run: LuaRun) throws -> Int32 {
        if run.random == nil { run.random = try seeded(run, call: call) }
        let draw = run.random!.next()
        let low: Int64
        let high: Int64
        switch call.argumentCount {
        case 0:
            return call.push(number: LuaRandom.float(draw))
        case 1:
            low = 1
            high = try call.integer(1)
            if high == 0 { return call.push(integer: Int64(bitPattern: draw)) }  // all 64 bits
        case 2:
            low = try call.integer(1)
            high = try call.integer(2)
        default:
            throw HostError("wrong number of arguments")
        }
        guard low <= high else { throw HostError.argument(1, "interval is empty") }
        let span = UInt64(bitPattern: high) &- UInt64(bitPattern: low)
        let value = run.random!.project(draw, into: span) &+ UInt64(bitPattern: low)
        return call.push(integer: Int64(bitPattern: value))
    }

    /// `math.randomseed(n [, m])` seeds as stock Lua does; with no argument, a fresh (recorded)
    /// seed. Returns the two seed values.
    private static func randomseed(_ call: LuaCall, run: LuaRun) throws -> Int32 {
        let seed: (UInt64, UInt64)
        if call.argumentCount == 0 {
            seed = try freshSeed(run, call: call)
        } else {
            let first = try call.integer(1)
            seed = (UInt64(bitPattern: first), call.isNoneOrNil(2) ? 0 : UInt64(bitPattern: try call.integer(2)))
        }
        run.random = LuaRandom(seed: seed.0, seed.1)
        call.push(integer: Int64(bitPattern: seed.0))
        return call.push(integer: Int64(bitPattern: seed.1)) + 1
    }

    private static func seeded(_ run: LuaRun, call: LuaCall) throws(HostError) -> LuaRandom {
        let seed = try freshSeed(run, call: call)
        return LuaRandom(seed: seed.0, seed.1)
    }

    /// Two 64-bit values from the system's generator; recorded in a durable run.
    private static func freshSeed(_ run: LuaRun, call: LuaCall) throws(HostError) -> (UInt64, UInt64) {
        let values = try HostFunctionBox.recorded(name: "math.randomseed", digest: RunRecording.noArguments,
                                                  state: run.state) { () throws(HostError) in
            var system = SystemRandomNumberGenerator()
            return [.integer(Int64(bitPattern: system.next())), .integer(Int64(bitPattern: system.next()))]
        }
        guard values.count == 2, case .integer(let first) = values[0], case .integer(let second) = values[1] else {
            throw HostError("the recorded seed is damaged")
        }
        return (UInt64(bitPattern: first), UInt64(bitPattern: second))
    }
}
