internal import CLua

/// The metatable that marks a Lua table as a JSON array, so that an empty one encodes as
/// `[]` rather than `{}`: Lua cannot otherwise tell an empty array from an empty object.
///
/// One marker per Lua state, shared by every table it marks, kept alive by a registry
/// reference for the life of the state. Its `__metatable` field is `"json.array"`: scripts
/// see that string from `getmetatable`, and cannot reach or change the shared table.
struct JSONArrayMarker {
    private let reference: Int32
    /// The marker's address, to recognise it without a registry lookup.
    private let identity: UnsafeRawPointer

    /// Creates the marker in the registry of `L`. Host code only: it runs no Lua code.
    init(in L: OpaquePointer) {
        lua_createtable(L, 0, 1)
        let stack = LuaStack(L: L)
        stack.push("__metatable")
        stack.push("json.array")
        lua_rawset(L, -3)
        identity = lua_topointer(L, -1)!
        reference = luaL_ref(L, au_registryindex())
    }

    /// Whether the table at `index` carries the marker.
    func marks(_ L: OpaquePointer, _ index: Int32) -> Bool {
        guard lua_getmetatable(L, index) != 0 else { return false }
        defer { au_pop(L, 1) }
        return lua_topointer(L, -1) == identity
    }

    /// Sets the marker as the metatable of the table at `index`, which has none.
    func attach(_ L: OpaquePointer, _ index: Int32) {
        let table = lua_absindex(L, index)
        lua_rawgeti(L, au_registryindex(), Int64(reference))
        lua_setmetatable(L, table)
    }
}
