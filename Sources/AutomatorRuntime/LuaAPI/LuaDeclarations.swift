/// The Lua that modules declaring script kinds share (`playbook { }`, `mapper { }`,
/// `command { }`, `watch { }`): a weak table that marks declarations, so the host can tell them
/// from any table, and `declare`, which checks a definition's fields and marks it. Each module's
/// Lua part includes it, so each has its own `declared` table, and registers `LuaNearest`.
enum LuaDeclarations {
    static let source = #"""
        local declared = setmetatable({}, { __mode = "k" })

        \#(LuaNearest.source)

        --- Checks `definition` against `fields` ({ name = { "type", ..., required = true } }) and
        --- marks it as `kind`; `example` shows the call in the error for a definition that is no table.
        --- A field it does not know is refused: `on_sla_breech` would otherwise never run. Every
        --- mistake is raised at once, a line each, in the order of the fields' names, so that
        --- `automator check` reports them all, each at its field's line.
        local function declare(kind, definition, fields, example)
          if type(definition) ~= "table" then
            error(("%s expects a table, as in return %s"):format(kind, example or (kind .. " { ... }")), 3)
          end
          local known, given, problems = {}, {}, {}
          for field in pairs(fields) do known[#known + 1] = field end
          table.sort(known)
          for name in pairs(definition) do given[#given + 1] = tostring(name) end
          table.sort(given)
          for _, name in ipairs(given) do
            if fields[name] == nil then
              local meant = nearest(name, known)
              problems[#problems + 1] = ("%s: unknown field %s%s: the fields are %s"):format(kind, name,
                meant and (" (did you mean " .. meant .. "?)") or "", table.concat(known, ", "))
            end
          end
          for _, name in ipairs(known) do
            local expected, value = fields[name], definition[name]
            local ok = value == nil and not expected.required
            for _, allowed in ipairs(expected) do ok = ok or type(value) == allowed end
            if not ok then
              problems[#problems + 1] = ("%s: %s must be %s, got %s"):format(kind, name, table.concat(expected, " or "),
                type(value) == "string" and ("%q"):format(value) or type(value))
            end
          end
          if #problems > 0 then error(table.concat(problems, "\n"), 3) end
          declared[definition] = kind
          return definition
        end
        """#
}
