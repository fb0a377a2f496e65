import Foundation

/// What a misspelt name meant, for the Lua that refuses a name it does not know (`declare` of
/// `LuaDeclarations`, `actions.run`'s options): `Typo`, as a host function of the module whose
/// Lua part includes `source`, which registers it with `register(in:)`.
enum LuaNearest {
    /// `host.nearest(name, known)`: the name of the list `known` that `name` likely meant, or nil.
    static func register(in table: inout ModuleTable) {
        table.function("nearest") { call in
            guard case .table(let known) = try call.value(2) else { throw call.expected("table", at: 2) }
            let names = known.array.compactMap { name in if case .string(let text) = name { text.description } else { nil } }
            return Typo.meant(by: try call.string(1).description, among: names).map(call.push) ?? 0
        }
    }

    static let source = #"""
        --- The name of `known` (a list) that `name` likely meant, or nil.
        local nearest = host.nearest
        """#
}
