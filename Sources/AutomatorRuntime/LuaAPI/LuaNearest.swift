/// The Lua that finds what a misspelt name meant, included where Lua code refuses a name it does
/// not know (`declare` of `LuaDeclarations`, `actions.run`'s options): one measure of a typo.
enum LuaNearest {
    static let source = #"""
        --- The name of `known` nearest `name`, two edits away at most: what a typo meant.
        local function nearest(name, known)
          local best, distance = nil, 3
          for _, candidate in ipairs(known) do
            local previous = {}
            for j = 0, #candidate do previous[j] = j end
            for i = 1, #name do
              local current = { [0] = i }
              for j = 1, #candidate do
                local cost = name:byte(i) == candidate:byte(j) and 0 or 1
                current[j] = math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
              end
              previous = current
            end
            if previous[#candidate] < distance then best, distance = candidate, previous[#candidate] end
          end
          return best
        end
        """#
}
