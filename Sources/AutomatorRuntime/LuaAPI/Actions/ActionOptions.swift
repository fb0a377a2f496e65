/// The Lua that checks the options of `actions.run` and `actions.plan` and the incident the
/// actions functions take, and words an action's approval question, shared by the actions module
/// and `automator test`'s stub of it, so that a test refuses what a server refuses and its
/// stub.chat matches the question a server asks.
///
/// A key it does not know is refused, and so is an incident where the options belong: ignored,
/// `{ dryrun = true }` sent the action for real, and `actions.run(name, params, inc)` sent it off
/// its incident (no journal entry, no undo by incident). The modules that include it register
/// `LuaNearest`.
enum ActionOptions {
    static let source = #"""
        local action_options = { incident = "incident", dry_run = "boolean", channel = "string",
                                 default_channel = "string", ttl = "duration" }

        \#(LuaNearest.source)

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
              local near = type(key) == "string" and nearest(key:lower(), known) or nil
              error(("%s: unknown option %s%s: the options are %s"):format(fn, tostring(key),
                near and (" (did you mean " .. near .. "?)") or "", table.concat(known, ", ")), level)
            end
            local fits = type(value) == expected or expected == "incident"
              and (type(value) == "string" or type(value) == "table" and type(value.id) == "string")
              or expected == "duration" and (type(value) == "string" or type(value) == "number")
            if not fits then
              local wanted = expected == "incident" and 'an incident (inc) or an id such as "INC-42"'
                or expected == "duration" and 'a duration such as "24h" (or seconds)' or ("a " .. expected)
              error(("%s: option %s must be %s, got %s"):format(fn, key, wanted, type(value)), level)
            end
          end
          return options
        end

        --- The id of an incident argument, `inc` or "INC-42", or nil. `level`: where the error
        --- points, 3 (the script's call) unless called through a helper.
        local function incident_of(value, name, level)
          if value == nil then return nil end
          if type(value) == "table" and type(value.id) == "string" then return value.id end
          if type(value) == "string" then return value end
          error(name .. ': incident must be an incident (inc) or an id such as "INC-42"', level or 3)
        end

        --- "Approve checkpoint.block_ip ip=203.0.113[.]7? (risk high, INC-4)": its parameters are
        --- often the attacker's URL or domain, defanged as all the bot says in chat.
        local function approval_question(plan, incident)
          return ("Approve %s? (risk %s%s)"):format(intel.defang(plan.summary), plan.risk,
                                                    incident and (", " .. incident) or "")
        end
        """#
}
