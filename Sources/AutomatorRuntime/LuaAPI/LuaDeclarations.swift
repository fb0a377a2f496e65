/// The Lua that modules declaring script kinds share (`playbook { }`, `mapper { }`,
/// `command { }`, `watch { }`): a weak table that marks declarations, so the host can tell them
/// from any table, and `declare`, which checks a definition's fields and marks it. Each module's
/// Lua part includes it, so each has its own `declared` table.
enum LuaDeclarations {
    static let source = #"""
        local declared = setmetatable({}, { __mode = "k" })

        --- Checks `definition` against `fields` ({ name = { "type", ..., required = true } }) and
        --- marks it as `kind`; `example` shows the call in the error for a definition that is no table.
        --- A field it does not know is refused: `on_sla_breech` would otherwise never run.
        local function declare(kind, definition, fields, example)
          if type(definition) ~= "table" then
            error(("%s expects a table, as in return %s"):format(kind, example or (kind .. " { ... }")), 3)
          end
          for name in pairs(definition) do
            if fields[name] == nil then
              local known = {}
              for field in pairs(fields) do known[#known + 1] = field end
              table.sort(known)
              error(("%s: unknown field %s: the fields are %s"):format(kind, tostring(name), table.concat(known, ", ")), 3)
            end
          end
          for name, expected in pairs(fields) do
            local value = definition[name]
            local ok = value == nil and not expected.required
            for _, allowed in ipairs(expected) do ok = ok or type(value) == allowed end
            if not ok then
              error(("%s: %s must be %s, got %s"):format(kind, name, table.concat(expected, " or "), type(value)), 3)
            end
          end
          declared[definition] = kind
          return definition
        end
        """#
}
