/// The Lua that gives a failed action's why to a playbook, shared by the actions module and
/// `automator test`'s stub of it, so that a test's why is a real one's: the table the integration
/// raised (`error({ code = "quota", retry_after = 30 })`), which prints and joins as the text the
/// journal has, else that text.
enum ActionFailure {
    static let source = #"""
        --- Why an action failed, from its JSON: `error`, the table its integration raised, reads as
        --- `result`, the text, when printed or joined ("not blocked: " .. why); without one, that text.
        --- An array raised, which has a metatable of its own, is given as the text.
        local function failure(action)
          local raised, text = action.error, action.result
          if type(raised) ~= "table" or getmetatable(raised) ~= nil then return text end
          return setmetatable(raised, {
            __tostring = function() return text end,
            __concat = function(left, right)
              return (left == raised and text or left) .. (right == raised and text or right)
            end,
          })
        end
        """#
}
