-- Microsoft's cloud APIs for the integrations that call them: Microsoft Graph
-- (integrations/entra.lua, integrations/defender.lua) and Azure Resource Manager
-- (integrations/sentinel.lua). Each signs in as an application by the Microsoft identity
-- platform's client-credentials flow, and answers errors as { error = { code, message } }.
-- https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-credentials-grant-flow
--   POST {login_url}/{tenant}/oauth2/v2.0/token  (form: client_id, client_secret, grant_type,
--        scope=THE API's/.default)                               -> { access_token, expires_in }
-- The client secret is put in the form as it is: one with &, + or % must be URL-encoded in the
-- configuration.
--
--   local graph = require("lib.microsoft").api("Microsoft Graph", "https://graph.microsoft.com/.default")
--   local bearer = "Bearer " .. graph.token(http, context.config)
--   graph.check(response, "disable", { [204] = true })
--   local send = graph.sender(http, context.config)        -- JSON, one token for a read and a change
--   graph.check(send("PATCH", url, { status = "resolved" }), "resolve")
--
-- The integration hands it its own `http`, the one that reaches the integration's hosts and fills
-- in its secret: the module uses what it is given, not whatever `http` the caller's globals hold.

local escape = require("lib.url").escape

local microsoft = {}

--- The calls of the API people know as `name` ("Microsoft Sentinel"), whose tokens are for
--- `scope` ("https://management.azure.com/.default"): `token`, `sender` and `check`, its errors in
--- one wording.
function microsoft.api(name, scope)
  local api = {}

  --- Raises the API's error for `response` unless its status is one of `expected` (a set; 200
  --- alone when nil): "NAME, WHAT: 404 Request_ResourceNotFound: ...", or the start of a body
  --- that is not the API's error. `advice`, by status, says what to do next, in parentheses after it.
  function api.check(response, what, expected, advice)
    if (expected or { [200] = true })[response.status] then return end
    local ok, answer = pcall(json.decode, response.body)
    local problem = ok and type(answer) == "table" and type(answer.error) == "table"
      and ("%s: %s"):format(answer.error.code, answer.error.message) or response.body:sub(1, 200)
    local hint = advice and advice[response.status]
    error(("%s, %s: %d %s%s"):format(name, what, response.status, problem, hint and " (" .. hint .. ")" or ""), 0)
  end

  --- A token for the API with the permissions of the application `config` names: `login_url`,
  --- `tenant`, `client_id`, `client_secret`. A new one at each call: none is kept, so none is
  --- used past its hour (`expires_in`). Refused, it raises `check`'s error for "token".
  function api.token(http, config)
    local form = ("client_id=%s&client_secret=%s&scope=%s&grant_type=client_credentials"):format(
      config.client_id, config.client_secret, escape(scope))
    local response = http.post(("%s/%s/oauth2/v2.0/token"):format(config.login_url, config.tenant), form,
                               { headers = { ["content-type"] = "application/x-www-form-urlencoded" } })
    api.check(response, "token")
    return json.decode(response.body).access_token
  end

  --- `send(method, url, body)`: sends `body` (a table, or nil) to the API as JSON, with one
  --- token for the calls of an action, which reads and then changes.
  function api.sender(http, config)
    local headers = { authorization = "Bearer " .. api.token(http, config), ["content-type"] = "application/json" }
    return function(method, url, body)
      return http.request{ method = method, url = url, body = body and json.encode(body) or nil, headers = headers }
    end
  end

  return api
end

return microsoft
