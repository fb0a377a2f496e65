-- Okta: suspend a user and end their sessions, expire a password, and fetch the System Log's
-- security events as incidents.
-- https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle
-- https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserSessions
-- https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog
-- https://developer.okta.com/docs/reference/rl-best-practices/ (rate limit headers)
-- The calls, with `Authorization: SSWS {api_token}`; {user} is an Okta user id or login:
--   POST   /api/v1/users/{user}/lifecycle/suspend            -> 200 {}   (an ACTIVE user)
--   POST   /api/v1/users/{user}/lifecycle/unsuspend          -> 200 {}   (a SUSPENDED user)
--   POST   /api/v1/users/{user}/lifecycle/expire_password    -> 200 { the user, status PASSWORD_EXPIRED }
--   DELETE /api/v1/users/{user}/sessions?oauthTokens=true    -> 204      (OAuth tokens revoked too)
--   GET    /api/v1/logs?filter=...&sortOrder=ASCENDING&limit=N&since=T (the first time) or &after=CURSOR
--          -> 200 [ LogEvent... ], Link: <.../api/v1/logs?...&after=CURSOR>; rel="next"
-- Okta answers errors as { errorCode, errorSummary, errorCauses = { { errorSummary } } }, and
-- every answer carries X-Rate-Limit-Limit, -Remaining and -Reset (the epoch second the window
-- resets): `http` waits out a 429 until that reset (at most a minute) and asks again.
--
-- Create the API token (Security > API > Tokens) as an admin whose role may manage the users
-- this acts on (Super or Org Administrator; a Group Administrator for their groups alone) and
-- read the System Log (Read-only Administrator or more): a token acts with its creator's role.
-- Set OKTA_API_TOKEN, and integrations.okta.api_url to the org's address (https://acme.okta.com).
--
-- The fetch: every minute, the System Log's security events (EVENT_TYPES below) since the last
-- one seen go through scripts/mappers/okta.lua, as an event posted to POST /api/v1/ingest/okta
-- would. It follows Okta's documented polling: the first request asks from `first_window` ago,
-- and each answer's Link rel="next" holds the `after` cursor the next request starts from, just
-- past the last event returned; Okta's cursor places events of one instant, so none is held back
-- or read twice. A run reads one page: a full page asks for the next at once (`more`), so a
-- backlog never outlasts a run's 30 seconds. It runs once the configuration says
-- `integrations.okta.fetch: true`: a team that set Okta up to suspend users, and gets its
-- events another way (a SIEM), does not start opening incidents from them at an upgrade.

local escape = require("lib.url").escape

-- The System Log events worth a case, and why:
local EVENT_TYPES = {
  -- ThreatInsight saw an address spraying passwords or stuffing credentials across the org.
  "security.threat.detected",
  -- An account locked after too many failed sign-ins: password guessing aimed at one user.
  "user.account.lock",
  -- The user rejected an Okta Verify push they did not ask for: someone holds their password and
  -- hopes a tired user approves one of many pushes (MFA fatigue).
  "user.mfa.okta_verify.deny_push",
  -- Someone (Okta support, or whoever holds an admin's session) acts as one of our users.
  "user.session.impersonation.initiate",
  -- An admin role given to a user or a group: the persistence an intruder with admin rights wants.
  "user.account.privilege.grant",
  "group.privilege.grant",
  -- The user answered an Okta notification (a new sign-in, a factor enrolled) with "this was not me".
  "user.account.report_suspicious_activity_by_enduser",
}

--- The System Log filter for EVENT_TYPES: eventType eq "a" or eventType eq "b"...
local function event_filter()
  local terms = {}
  for i, event_type in ipairs(EVENT_TYPES) do terms[i] = ('eventType eq "%s"'):format(event_type) end
  return table.concat(terms, " or ")
end

--- What to do about Okta's refusal `status` of a call on the user `subject`, or on the System Log
--- when nil.
local function advice(status, subject)
  if status == 401 then
    return "check OKTA_API_TOKEN: Okta revokes a token unused for 30 days, and every token of an admin deactivated"
  elseif status == 403 and subject then
    return "the API token acts with its creator's admin role, which may not manage this user: create the token"
      .. " as a Super or Org Administrator"
  elseif status == 403 then
    return "the API token acts with its creator's admin role, which may not read the System Log: create the token"
      .. " as a Read-only Administrator or more"
  elseif status == 404 and subject then
    return ("no Okta user has the id or login %s"):format(subject)
  end
end

--- Raises Okta's error for a response that is not one of `expected`: its errorSummary and
--- causes, what to do about it, and for a 429 when Okta takes requests again. `subject` is the
--- user acted on.
local function check(response, what, expected, subject)
  if expected[response.status] then return end
  local ok, answer = pcall(json.decode, response.body)
  local problem = ok and type(answer) == "table" and type(answer.errorSummary) == "string" and answer.errorSummary
    or response.body:sub(1, 200)
  for _, cause in ipairs(ok and type(answer) == "table" and type(answer.errorCauses) == "table" and answer.errorCauses or {}) do
    if type(cause) == "table" and type(cause.errorSummary) == "string" then problem = problem .. "; " .. cause.errorSummary end
  end
  local reset = response.status == 429 and tonumber(response.headers["x-rate-limit-reset"])
  if reset then problem = problem .. os.date("! (Okta takes requests again at %H:%M:%S UTC)", math.floor(reset)) end
  local next_step = advice(response.status, subject)
  if next_step then problem = ("%s (%s)"):format(problem, next_step) end
  error(("Okta, %s: %d %s"):format(what, response.status, problem), 0)
end

--- The org's API at `path`: https://acme.okta.com/api/v1/..., whether api_url ends in / or not.
local function endpoint(config, path)
  return (config.api_url:gsub("/+$", "")) .. "/api/v1" .. path
end

--- The request headers: the API token, and JSON both ways.
local function headers(config)
  return { authorization = "SSWS " .. config.api_token, accept = "application/json",
           ["content-type"] = "application/json" }
end

--- Calls `method` on the user's `suffix` (/lifecycle/suspend, /sessions...), checked.
local function call(context, method, user, suffix, what, expected)
  local config = context.config
  local response = http.request{
    method = method, url = endpoint(config, ("/users/%s%s"):format(escape(user, "@"), suffix)),
    headers = headers(config), body = "",
  }
  check(response, what, expected, user)
  return response
end

--- A lifecycle operation (`suspend`, `unsuspend`) on `user`, which Okta answers with {}.
local function lifecycle(context, user, operation, status)
  call(context, "POST", user, "/lifecycle/" .. operation, operation .. " " .. user, { [200] = true, [204] = true })
  return { user = user, status = status }
end

--- The `after` cursor in the Link rel="next" header of `response`, as Okta wrote it (still
--- percent-encoded, as it goes back into a URL); nil when there is none.
local function next_cursor(response)
  for target, rel in (response.headers.link or ""):gmatch("<([^>]*)>%s*;%s*rel=\"?(%w+)\"?") do
    if rel == "next" then return target:match("[?&]after=([^&]+)") end
  end
end

--- One page of the System Log's security events after `cursor` (the first time, those of the
--- last `first_window`), oldest first, with the cursor after them.
local function fetch_events(context, cursor)
  local config = context.config
  local page_size = tonumber(config.page_size)
  local start = cursor and ("after=" .. cursor)
    or ("since=" .. escape(os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - tonumber(config.first_window))))
  local response = http.get(endpoint(config, ("/logs?filter=%s&sortOrder=ASCENDING&limit=%d&%s")
                              :format(escape(event_filter()), page_size, start)),
                            { headers = headers(config) })
  check(response, "System Log", { [200] = true })
  local ok, events = pcall(json.decode, response.body)
  if not ok or type(events) ~= "table" then
    error(("Okta, System Log: the answer is not a list of events: %s"):format(response.body:sub(1, 200)), 0)
  end
  -- Okta's polling always gives a next link; without one, this page is asked for again.
  return { alerts = events, cursor = next_cursor(response) or cursor, more = #events >= page_size }
end

local user = { user = { type = "account", required = true, description = "Okta user id or login" } }

return integration {
  name = "Okta",
  config = {
    api_url = { env = "OKTA_API_URL", required = true },
    api_token = { secret = true, env = "OKTA_API_TOKEN", required = true },
    -- How far back the first fetch looks, in seconds: not the org's whole history.
    first_window = 3600,
    -- Events a page (at most 1000): a run reads one, and the next page comes at once.
    page_size = 100,
  },
  -- Okta's default for /api/v1/logs is 120 a minute, for /api/v1/users 600: stay under the lower.
  rate = { per_minute = 100 },
  fetch = { every = "1m", source = "okta", opt_in = true, run = fetch_events },
  actions = {
    suspend_user = {
      description = "Stops the user signing in (SUSPENDED) and keeps their apps and groups",
      risk = "high", undo = "unsuspend_user", params = user,
      run = function(params, context) return lifecycle(context, params.user, "suspend", "SUSPENDED") end,
    },
    unsuspend_user = {
      description = "Lets the user sign in again (ACTIVE)",
      risk = "medium", params = user,
      run = function(params, context) return lifecycle(context, params.user, "unsuspend", "ACTIVE") end,
    },
    -- No undo: a session ended cannot be given back; the user signs in again.
    clear_sessions = {
      description = "Ends the user's Okta sessions and revokes the OAuth tokens Okta issued them",
      risk = "medium", params = user,
      run = function(params, context)
        call(context, "DELETE", params.user, "/sessions?oauthTokens=true", "clear sessions of " .. params.user,
             { [204] = true })
        return { user = params.user, sessions_cleared = true, oauth_tokens_revoked = true }
      end,
    },
    -- No undo: Okta cannot give a password back its time.
    expire_password = {
      description = "Makes the user choose a new password at their next sign-in (PASSWORD_EXPIRED)",
      risk = "medium", params = user,
      run = function(params, context)
        local response = call(context, "POST", params.user, "/lifecycle/expire_password",
                              "expire the password of " .. params.user, { [200] = true })
        local ok, answer = pcall(json.decode, response.body)
        local status = ok and type(answer) == "table" and type(answer.status) == "string" and answer.status
        return { user = params.user, status = status or "PASSWORD_EXPIRED" }
      end,
    },
  },
}
