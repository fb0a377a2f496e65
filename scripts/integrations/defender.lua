-- Microsoft Defender XDR's alerts through Microsoft Graph, fetched every minute: each alert new or
-- updated since the last fetch goes through scripts/mappers/defender.lua, as an alert posted to
-- POST /api/v1/ingest/defender would, and becomes an incident (an update joins the incident its
-- alert opened). `automator fetch list` shows where the fetch is; `automator fetch run defender`
-- fetches now.
-- https://learn.microsoft.com/graph/auth-v2-service (client credentials)
-- https://learn.microsoft.com/graph/api/security-list-alerts_v2 (GET /security/alerts_v2)
--
-- Register an application in Entra ID with the application permission SecurityAlert.Read.All
-- (admin consent granted), and set DEFENDER_TENANT_ID, DEFENDER_CLIENT_ID and
-- DEFENDER_CLIENT_SECRET, or integrations.defender.* in the configuration. Each fetch gets a token
-- from lib/microsoft.lua, which says how (and how the client secret must be written),
-- then asks for the alerts whose lastUpdateDateTime is after the cursor (the first time, those of
-- the last `first_window`), and follows @odata.nextLink to the last page:
--   GET {graph_url}/v1.0/security/alerts_v2?$filter=lastUpdateDateTime gt {cursor}&$top={page_size}
--        -> { value = { alert, ... }, ["@odata.nextLink"] = next page's URL }
-- alerts_v2 takes no $orderby (newest first, as Graph lists them): the cursor moves to the latest
-- lastUpdateDateTime only once every page was read, so an alert is never skipped. A 429's
-- Retry-After is waited out by `http` (then tried again); Graph answers errors as
-- { error = { code, message } }.
--
-- Its actions resolve an alert, reopen it and comment on it (scripts/lib/writeback.lua resolves
-- the alert ours came from when ours closes); they need SecurityAlert.ReadWrite.All instead:
-- https://learn.microsoft.com/graph/api/security-alert-update
-- https://learn.microsoft.com/graph/api/security-alert-post-comments
--   GET   {graph_url}/v1.0/security/alerts_v2/{id}                       -> the alert, with its comments
--   PATCH {graph_url}/v1.0/security/alerts_v2/{id} { status, classification, determination } -> 200 the alert
--   POST  {graph_url}/v1.0/security/alerts_v2/{id}/comments
--         { "@odata.type" = "microsoft.graph.security.alertComment", comment } -> 200 { value = comments }
-- Graph takes no idempotency key for a comment: a comment the alert already holds, word for
-- word, is not written again, so a replayed action comments once. An alert resolved already
-- (in Defender, or by a replayed action) keeps its classification.

local graph = require("lib.microsoft").api("Microsoft Graph", "https://graph.microsoft.com/.default")
local escape = require("lib.url").escape

--- What Graph's 403 means here.
local ADVICE = { [403] = "grant the application SecurityAlert.Read.All, with admin consent" }

--- What Graph's refusals of a change mean here.
local CHANGE_ADVICE = {
  [403] = "grant the application SecurityAlert.ReadWrite.All, with admin consent",
  [404] = "no such alert: check its id (the incident's source_ref)",
}

-- alerts_v2's alertClassification, and the determinations (alertDetermination) that go with each.
local DETERMINATIONS = {
  truePositive = { "apt", "malware", "securityPersonnel", "securityTesting", "unwantedSoftware", "multiStagedAttack",
                   "compromisedUser", "phishing", "maliciousUserActivity", "other" },
  informationalExpectedActivity = { "securityTesting", "lineOfBusinessApplication", "confirmedUserActivity", "other" },
  falsePositive = { "clean", "insufficientData", "other" },
  unknown = {},
}

--- What resolve_alert and its undo are given.
local RESOLVING = {
  alert = { type = "string", required = true, description = "the alert's id, its source_ref here" },
  classification = { type = "string", required = true,
                     description = "truePositive, falsePositive, informationalExpectedActivity or unknown" },
  determination = { type = "string", description = "what it was, among those its classification takes (malware, "
                    .. "phishing, clean...)" },
  comment = { type = "string", description = "added to the alert's comments" },
}

--- The URL of the alert `id`, with `suffix` when given.
local function alert_url(config, id, suffix)
  return ("%s/v1.0/security/alerts_v2/%s%s"):format(config.graph_url, escape(id), suffix or "")
end

--- The alert `id` as Graph has it, with its comments.
local function read_alert(send, config, id, what)
  local response = send("GET", alert_url(config, id))
  graph.check(response, what, nil, CHANGE_ADVICE)
  return json.decode(response.body)
end

--- Sets the alert `id`'s `changes` (PATCH); returns the alert as it is now.
local function update(send, config, id, changes, what)
  local response = send("PATCH", alert_url(config, id), changes)
  graph.check(response, what, nil, CHANGE_ADVICE)
  return json.decode(response.body)
end

--- Adds `comment` to the alert `id`, read as `alert`, unless it holds it already, word for word:
--- true when added.
local function add_comment(send, config, id, alert, comment, what)
  for _, earlier in ipairs(type(alert.comments) == "table" and alert.comments or {}) do
    if earlier.comment == comment then return false end
  end
  local response = send("POST", alert_url(config, id, "/comments"),
                        { ["@odata.type"] = "microsoft.graph.security.alertComment", comment = comment })
  graph.check(response, what, nil, CHANGE_ADVICE)
  return true
end

--- Refuses a classification, or a determination it does not take, naming those that fit.
local function check_classification(classification, determination)
  local fitting = DETERMINATIONS[classification]
  if not fitting then
    error(("classification must be truePositive, falsePositive, informationalExpectedActivity or unknown, got %q")
      :format(classification), 0)
  end
  if determination == nil then return end
  for _, name in ipairs(fitting) do
    if name == determination then return end
  end
  error(("%s takes %s as its determination, got %q"):format(classification,
    #fitting > 0 and table.concat(fitting, ", ") or "none", determination), 0)
end

--- A page of alerts: Graph's answer read, or an error that says what came instead.
local function page(url, bearer)
  local response = http.get(url, { headers = { authorization = bearer } })
  graph.check(response, "alerts", nil, ADVICE)
  local ok, answer = pcall(json.decode, response.body)
  if not ok or type(answer) ~= "table" or type(answer.value) ~= "table" then
    error(("Microsoft Graph, alerts: the answer is not a page of alerts: %s"):format(response.body:sub(1, 200)), 0)
  end
  return answer
end

return integration {
  name = "Microsoft Defender XDR",
  config = {
    login_url = "https://login.microsoftonline.com",
    graph_url = "https://graph.microsoft.com",
    tenant = { env = "DEFENDER_TENANT_ID", required = true },
    client_id = { env = "DEFENDER_CLIENT_ID", required = true },
    client_secret = { secret = true, env = "DEFENDER_CLIENT_SECRET", required = true },
    -- How far back the first fetch looks, in seconds: not the tenant's whole history.
    first_window = 3600,
    -- Alerts a page (Graph's $top), and pages a fetch reads before it gives up: more alerts
    -- updated in one interval than both allow fail the fetch, saying so, and lose none.
    page_size = 100,
    max_pages = 50,
  },
  rate = { per_minute = 60 },
  actions = {
    resolve_alert = {
      description = "Resolves the alert in Microsoft Defender XDR with a classification (one resolved there "
        .. "already is left as it is)",
      risk = "medium", undo = "reopen_alert", params = RESOLVING, on_closed = true,
      run = function(params, context)
        check_classification(params.classification, params.determination)
        local config, send = context.config, graph.sender(http, context.config)
        local alert = read_alert(send, config, params.alert, "resolve")
        -- Resolved in Defender meanwhile (or by this very action, before a crash): its
        -- classification is someone's judgement, not overwritten; the comment is still added.
        local closed_before = alert.status == "resolved"
        if not closed_before then
          alert = update(send, config, params.alert, { status = "resolved", classification = params.classification,
                                                       determination = params.determination }, "resolve")
        end
        local commented = params.comment ~= nil and add_comment(send, config, params.alert, alert, params.comment,
                                                                "resolve")
        return { alert = params.alert, status = alert.status, classification = alert.classification,
                 commented = commented, closed_before = closed_before }
      end,
    },
    reopen_alert = {
      description = "Sets a resolved Defender alert back in progress",
      risk = "low", params = RESOLVING, on_closed = true,
      run = function(params, context)
        local send = graph.sender(http, context.config)
        local alert = update(send, context.config, params.alert, { status = "inProgress" }, "reopen")
        return { alert = params.alert, status = alert.status }
      end,
    },
    comment = {
      description = "Adds a comment to the Defender alert, unless it holds it already",
      risk = "low", on_closed = true,
      params = { alert = RESOLVING.alert, comment = { type = "string", required = true } },
      run = function(params, context)
        local config, send = context.config, graph.sender(http, context.config)
        local alert = read_alert(send, config, params.alert, "comment")
        local added = add_comment(send, config, params.alert, alert, params.comment, "comment")
        return { alert = params.alert, commented = added }
      end,
    },
  },
  fetch = {
    every = "1m",
    source = "defender",
    run = function(context, cursor)
      local config = context.config
      local since = cursor or os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - tonumber(config.first_window))
      local bearer = "Bearer " .. graph.token(http, config)
      local url = ("%s/v1.0/security/alerts_v2?$filter=%s&$top=%d"):format(config.graph_url,
        escape("lastUpdateDateTime gt " .. since), tonumber(config.page_size))
      local alerts, latest = {}, since
      for _ = 1, tonumber(config.max_pages) do
        local answer = page(url, bearer)
        for _, alert in ipairs(answer.value) do
          alerts[#alerts + 1] = alert
          -- ISO 8601 in UTC: the latest sorts last as text.
          if type(alert.lastUpdateDateTime) == "string" and alert.lastUpdateDateTime > latest then
            latest = alert.lastUpdateDateTime
          end
        end
        url = answer["@odata.nextLink"]
        if url == nil then return { alerts = alerts, cursor = latest } end
      end
      error(("more than %d pages of alerts were updated since %s: raise integrations.defender.max_pages or "
             .. "page_size (Graph takes up to 2000 a page)"):format(tonumber(config.max_pages), since), 0)
    end,
  },
}
