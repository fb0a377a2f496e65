-- Tests of lib/identity.lua. Run them with:
--
--   automator test scripts/lib/identity_test.lua

local identity = require("lib.identity")

--- Runs `body` with only the actions of `available` set up, as on a server configured so:
--- a test has every action of the folder available.
local function with_set_up(available, body)
  local original = actions.available
  actions.available = function(name)
    if available[name] then return true end
    return false, ("the integration %s is not set up: no settings"):format(name:match("^[^.]+"))
  end
  local ok, problem = pcall(body)
  actions.available = original
  if not ok then error(problem, 0) end
end

test("an incident from Okta, by its source or its label, is Okta's account", function()
  expect.equal(identity.provider({ source = "okta", labels = {} }).disable, "okta.suspend_user")
  local labelled = identity.provider({ source = "splunk", labels = { "okta", "user.account.lock" } })
  expect.equal(labelled.end_sessions, "okta.clear_sessions")
  expect.equal(labelled.name, "Okta")
end)

test("an incident from Microsoft's tools is Entra ID's account, even where Okta alone is set up", function()
  with_set_up({ ["okta.suspend_user"] = true }, function()
    expect.equal(identity.provider({ source = "defender", labels = {} }).disable, "entra.disable_user")
    expect.equal(identity.provider({ source = "sentinel" }).end_sessions, "entra.revoke_sessions")
  end)
end)

test("an incident that does not say takes the provider set up; Entra ID where both are", function()
  with_set_up({ ["okta.suspend_user"] = true }, function()
    expect.equal(identity.provider({ source = "splunk", labels = {} }).disable, "okta.suspend_user")
  end)
  expect.equal(identity.provider({ source = "splunk", labels = {} }).disable, "entra.disable_user")
end)

test("with no provider set up, why names each one's reason", function()
  with_set_up({}, function()
    local provider, why = identity.provider({ source = "splunk" })
    expect.equal(provider, nil)
    expect.equal(why, "the integration entra is not set up: no settings; "
      .. "the integration okta is not set up: no settings")
  end)
end)

test("the standing approvals name every provider's disabling action", function()
  expect.equal(identity.disable_actions(), { "entra.disable_user", "okta.suspend_user" })
end)
