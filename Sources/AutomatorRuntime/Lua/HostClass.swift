internal import CLua

/// A Swift class whose instances scripts hold as userdata and call methods on:
/// `incident:note("text")`. Lua keeps the instance alive while a script can reach it.
///
/// ```swift
/// var counter = HostClass<Counter>("counter")
/// counter.method("add") { counter, call in
///     counter.value += try call.integer(2)  // argument 1 is the object itself
///     return call.push(.integer(counter.value))
/// }
/// let type = table.register(counter)        // in a HostModule's register(in:)
/// table.function("new") { call in call.push(Counter(), as: type) }
/// ```
public struct HostClass<Object: AnyObject> {
    public let name: String
    fileprivate var methods: [(name: String, body: (Object, LuaCall) throws -> Int32)] = []

    public init(_ name: String) { self.name = name }

    /// Adds a method. In `body`, argument 1 is the object itself; the script's arguments start at 2.
    public mutating func method(_ name: String, _ body: @escaping (Object, LuaCall) throws -> Int32) {
        methods.append((name, body))
    }
}

/// A registered `HostClass`: what pushes and checks its instances.
public struct HostClassHandle<Object: AnyObject>: Sendable {
    let name: String
    /// The metatable's registry slot.
    let metatable: Int32
}

extension ModuleTable {
    /// Registers `hostClass`'s metatable; returns the handle that pushes its instances.
    public mutating func register<Object: AnyObject>(_ hostClass: HostClass<Object>) -> HostClassHandle<Object> {
        let L = state.L
        lua_createtable(L, 0, 4)
        let handle = HostClassHandle<Object>(name: hostClass.name, metatable: luaL_ref(L, au_registryindex()))
        lua_rawgeti(L, au_registryindex(), Int64(handle.metatable))

        lua_createtable(L, 0, Int32(hostClass.methods.count))
        for method in hostClass.methods {
            state.stack.push(method.name)
            let body = method.body
            state.push(HostFunctionBox(name: "\(hostClass.name):\(method.name)") { call in
                try body(call.object(1, as: handle), call)
            })
            lua_rawset(L, -3)
        }
        state.stack.push("__index")
        lua_rotate(L, -2, 1)
        lua_rawset(L, -3)
        // __metatable keeps the shared metatable out of scripts' reach.
        for (key, value) in [("__name", hostClass.name), ("__metatable", hostClass.name)] {
            state.stack.push(key)
            state.stack.push(value)
            lua_rawset(L, -3)
        }
        state.stack.push("__gc")
        au_push_object_finalizer(L)
        lua_rawset(L, -3)
        au_pop(L, 1)
        return handle
    }
}

extension LuaCall {
    /// Pushes `object` as an instance of its registered class; returns 1.
    @discardableResult
    public func push<Object: AnyObject>(_ object: Object, as type: HostClassHandle<Object>) -> Int32 {
        let L = stack.L
        lua_rawgeti(L, au_registryindex(), Int64(type.metatable))
        au_push_object(L, Unmanaged.passRetained(object).toOpaque(), lua_gettop(L))
        lua_rotate(L, -2, 1)
        au_pop(L, 1)
        return 1
    }

    /// The instance of `type` at argument `position`.
    public func object<Object: AnyObject>(_ position: Int32, as type: HostClassHandle<Object>) throws(HostError) -> Object {
        let L = stack.L
        guard let pointer = au_to_object(L, position), lua_getmetatable(L, position) != 0 else {
            throw .argument(position, "\(type.name) expected, got \(stack.typeName(at: position))")
        }
        lua_rawgeti(L, au_registryindex(), Int64(type.metatable))
        let matches = lua_rawequal(L, -1, -2) != 0
        au_pop(L, 2)
        guard matches else { throw .argument(position, "\(type.name) expected, got another host object") }
        return Unmanaged<Object>.fromOpaque(pointer).takeUnretainedValue()
    }
}
