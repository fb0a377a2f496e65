-- Microsoft Entra ID through Microsoft Graph: disable an account and end its sessions.
-- https://learn.microsoft.com/graph/auth-v2-service (client credentials)
-- https://learn.microsoft.com/graph/api/user-update (PATCH /users/{id})
-- https://learn.microsoft.com/graph/api/user-revokesigninsessions
--
-- Register an application in Entra ID with the application permission User.ReadWrite.All
-- (admin consent granted), and set ENTRA_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET, or
-- integrations.entra.* in the configuration. Each action gets a token first:
--   POST {login_url}/{tenant}/oauth2/v2.0/token  (form: client_id, client_secret, grant_type,
--        scope=https://graph.microsoft.com/.default)            -> { access_token, expires_in }
-- The client secret is put in the form as it is: one with &, + or % must be URL-encoded in the
-- configuration. Graph answers errors as { error = { code, message } }.

--- `text` fit for a URL path segment.
local function escape(text)
  return (text:gsub("[^%w%-%._~@]", function(c) return ("%%%02X"):format(c:byte()) end))
end

--- Raises Graph's error for a response that is not one of `expected`.
local function check(response, what, expected)
  if expected[response.status] then return end
  local ok, answer = pcall(json.decode, response.body)
  local problem = ok and type(answer) == "table" and type(answer.error) == "table"
    and ("%s: %s"):format(answer.error.code, answer.error.message) or response.body:sub(1, 200)
  error(("Microsoft Graph, %s: %d %s"):format(what, response.status, problem), 0)
end

local function token(config)
  local form = ("client_id=%s&client_secret=%s&scope=%s&grant_type=client_credentials"):format(
    config.client_id, config.client_secret, "https%3A%2F%2Fgraph.microsoft.com%2F.default")
  local response = http.post(("%s/%s/oauth2/v2.0/token"):format(config.login_url, config.tenant), form,
                             { headers = { ["content-type"] = "application/x-www-form-urlencoded" } })
  check(response, "token", { [200] = true })
  return json.decode(response.body).access_token
end

--- Calls Graph for the user `user` with a fresh token.
local function call(context, method, user, suffix, body)
  local config = context.config
  local response = http.request{
    method = method, url = ("%s/v1.0/users/%s%s"):format(config.graph_url, escape(user), suffix or ""),
    headers = { authorization = "Bearer " .. token(config), ["content-type"] = "application/json",
                ["client-request-id"] = context.idempotency_key },
    body = body and json.encode(body) or "",
  }
  return response
end

local user = { user = { type = "account", required = true, description = "user id or userPrincipalName" } }

local function set_enabled(context, account, enabled)
  local response = call(context, "PATCH", account, nil, { accountEnabled = enabled })
  check(response, enabled and "enable" or "disable", { [204] = true })
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
        check(response, "revoke sessions", { [200] = true })
        return { user = params.user, revoked = json.decode(response.body).value == true }
      end,
    },
  },
}
