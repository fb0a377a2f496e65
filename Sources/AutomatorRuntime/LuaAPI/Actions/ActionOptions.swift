/// The Lua that checks the options of `actions.run` and `actions.plan`, shared by the actions
/// module and `automator test`'s stub of it, so that a test refuses what a server refuses.
///
/// A key it does not know is refused, and so is an incident where the options belong: ignored,
/// `{ dryrun = true }` sent the action for real, and `actions.run(name, params, inc)` sent it off
/// its incident (no journal entry, no undo by incident).
enum ActionOptions {
    static let source = #"""
        local action_options = { incident = "incident", dry_run = "boolean", channel = "string",
                                 default_channel = "string" }

        --- The number of single-character edits from `a` to `b` (Levenshtein).
        local function edits(a, b)
          local previous = {}
          for j = 0, #b do previous[j] = j end
          for i = 1, #a do
            local current = { [0] = i }
            for j = 1, #b do
              local cost = a:byte(i) == b:byte(j) and 0 or 1
              current[j] = math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            end
            previous = current
          end
          return previous[#b]
        end

        --- `options` as `fn` ("actions.run") takes them, checked; raised at `level`.
        local function options_of(fn, options, level)
          if options == nil then return {} end
          local example = ("%s(name, params, { incident = inc })"):format(fn)
          if type(options) ~= "table" then
            error(("%s: options must be a table, as in %s, got %s"):format(fn, example, type(options)), level)
          end
          if options.id ~= nil then
            error(("%s: the third argument is the options, not the incident: write %s"):format(fn, example), level)
          end
          local known = {}
          for key in pairs(action_options) do known[#known + 1] = key end
          table.sort(known)
          for key, value in pairs(options) do
            local expected = action_options[key]
            if expected == nil then
              local near, distance = nil, 3
              for _, name in ipairs(known) do
                local d = type(key) == "string" and edits(key:lower(), name) or distance
                if d < distance then near, distance = name, d end
              end
              error(("%s: unknown option %s%s: the options are %s"):format(fn, tostring(key),
                near and (" (did you mean " .. near .. "?)") or "", table.concat(known, ", ")), level)
            end
            local fits = type(value) == expected or expected == "incident"
              and (type(value) == "string" or type(value) == "table" and type(value.id) == "string")
            if not fits then
              local wanted = expected == "incident" and 'an incident (inc) or an id such as "INC-42"' or ("a " .. expected)
              error(("%s: option %s must be %s, got %s"):format(fn, key, wanted, type(value)), level)
            end
          end
          return options
        end
        """#
}
