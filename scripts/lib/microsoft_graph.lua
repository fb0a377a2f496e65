-- Microsoft Graph for the integrations that call it (integrations/entra.lua, integrations/defender.lua):
-- the application's token from the Microsoft identity platform, and Graph's errors in one wording.
-- https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-credentials-grant-flow
--   POST {login_url}/{tenant}/oauth2/v2.0/token  (form: client_id, client_secret, grant_type,
--        scope=https://graph.microsoft.com/.default)            -> { access_token, expires_in }
-- The client secret is put in the form as it is: one with &, + or % must be URL-encoded in the
-- configuration. Graph answers errors as { error = { code, message } }.
--
--   local graph = require("lib.microsoft_graph")
--   local bearer = "Bearer " .. graph.token(http, context.config)
--   graph.check(response, "disable", { [204] = true })
--
-- The integration hands it its own `http`, the one that reaches the integration's hosts and fills
-- in its secret: the module uses what it is given, not whatever `http` the caller's globals hold.

local graph = {}

--- Raises Graph's error for `response` unless its status is one of `expected` (a set; 200 alone
--- when nil): "Microsoft Graph, WHAT: 404 Request_ResourceNotFound: ...", or the start of a body
--- that is not Graph's error. `advice`, by status, says what to do next, in parentheses after it.
function graph.check(response, what, expected, advice)
  if (expected or { [200] = true })[response.status] then return end
  local ok, answer = pcall(json.decode, response.body)
  local problem = ok and type(answer) == "table" and type(answer.error) == "table"
    and ("%s: %s"):format(answer.error.code, answer.error.message) or response.body:sub(1, 200)
  local hint = advice and advice[response.status]
  error(("Microsoft Graph, %s: %d %s%s"):format(what, response.status, problem, hint and " (" .. hint .. ")" or ""), 0)
end

--- A token for Graph with the application permissions `config` names the application of:
--- `login_url`, `tenant`, `client_id`, `client_secret`. A new one at each call: none is kept, so
--- none is used past its hour (`expires_in`). Refused, it raises `graph.check`'s error for "token".
function graph.token(http, config)
  local form = ("client_id=%s&client_secret=%s&scope=%s&grant_type=client_credentials"):format(
    config.client_id, config.client_secret, "https%3A%2F%2Fgraph.microsoft.com%2F.default")
  local response = http.post(("%s/%s/oauth2/v2.0/token"):format(config.login_url, config.tenant), form,
                             { headers = { ["content-type"] = "application/x-www-form-urlencoded" } })
  graph.check(response, "token")
  return json.decode(response.body).access_token
end

return graph
