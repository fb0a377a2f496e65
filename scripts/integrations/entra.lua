-- Microsoft Entra ID through Microsoft Graph: disable an account and end its sessions.
-- https://learn.microsoft.com/graph/auth-v2-service (client credentials)
-- https://learn.microsoft.com/graph/api/user-update (PATCH /users/{id})
-- https://learn.microsoft.com/graph/api/user-revokesigninsessions
--
-- Register an application in Entra ID with the application permission User.ReadWrite.All
-- (admin consent granted), and set ENTRA_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET, or
-- integrations.entra.* in the configuration. Each action gets a token first, from
-- lib/microsoft.lua, which says how (and how the client secret must be written).

local graph = require("lib.microsoft").api("Microsoft Graph", "https://graph.microsoft.com/.default")
local escape = require("lib.url").escape

--- Calls Graph for the user `user` with a fresh token.
local function call(context, method, user, suffix, body)
  local config = context.config
  local response = http.request{
    method = method, url = ("%s/v1.0/users/%s%s"):format(config.graph_url, escape(user, "@"), suffix or ""),
    headers = { authorization = "Bearer " .. graph.token(http, config), ["content-type"] = "application/json",
                ["client-request-id"] = context.idempotency_key },
    body = body and json.encode(body) or "",
  }
  return response
end

local user = { user = { type = "account", required = true, description = "user id or userPrincipalName" } }

local function set_enabled(context, account, enabled)
  local response = call(context, "PATCH", account, nil, { accountEnabled = enabled })
  graph.check(response, enabled and "enable" or "disable", { [204] = true })
  return { user = account, account_enabled = enabled }
end

return integration {
  name = "Microsoft Entra ID",
  config = {
    login_url = "https://login.microsoftonline.com",
    graph_url = "https://graph.microsoft.com",
    tenant = { env = "ENTRA_TENANT_ID", required = true },
    client_id = { env = "ENTRA_CLIENT_ID", required = true },
    client_secret = { secret = true, env = "ENTRA_CLIENT_SECRET", required = true },
  },
  rate = { per_minute = 60 },
  actions = {
    disable_user = {
      description = "Blocks the account from signing in (accountEnabled = false)",
      risk = "high", undo = "enable_user", params = user,
      run = function(params, context) return set_enabled(context, params.user, false) end,
    },
    enable_user = {
      description = "Lets the account sign in again",
      risk = "medium", params = user,
      run = function(params, context) return set_enabled(context, params.user, true) end,
    },
    revoke_sessions = {
      description = "Ends the account's sessions: refresh tokens and browser cookies stop working",
      risk = "medium", params = user,
      run = function(params, context)
        local response = call(context, "POST", params.user, "/revokeSignInSessions")
        graph.check(response, "revoke sessions")
        return { user = params.user, revoked = json.decode(response.body).value == true }
      end,
    },
  },
}
