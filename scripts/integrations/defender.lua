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
-- the last `first_window`):
--   GET {graph_url}/v1.0/security/alerts_v2?$filter=lastUpdateDateTime gt {cursor}&$top={page_size}
--        -> { value = { alert, ... }, ["@odata.nextLink"] = next page's URL }
-- alerts_v2 takes no $orderby and lists the newest first: a page with a nextLink is the newest of
-- more, and the cursor cannot move past alerts not read. The window is then given an end, the
-- page's oldest alert (the page held every alert after it), and halved until a page holds it whole:
--   GET ...$filter=lastUpdateDateTime gt {cursor} and lastUpdateDateTime le {end}&$top={page_size}
-- Its alerts are taken and the cursor moves to its end; the next window is twice as wide, up to
-- that oldest alert, and past it the window is open again. nextLink is not followed: Graph
-- pages alerts_v2 by an offset ($skip), which an alert updated meanwhile, leaving a window that
-- has an end, would shift past one never read. Once it took a window, a run stops asking after
-- max_pages pages or 20 seconds (its call has 30), and returns what it took, oldest first, with
-- more = true: the next run goes on at once. Until then it asks a page a halving (at most 64),
-- so each run moves the cursor, and an alert storm (a worm, a bulk change) is fetched over
-- consecutive runs, each alert once. More than page_size alerts updated at one instant (to the
-- 100 nanoseconds Graph writes) fail the run, saying to raise page_size; Graph's $top takes up to
-- 1000 (https://learn.microsoft.com/graph/api/resources/security-error-codes, "Constraints").
-- A 429's Retry-After is waited out by `http` (then tried again); Graph answers errors as
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
local timestamps = require("lib.timestamps")

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

--- How long a run that took a window goes on asking for pages: what it took is returned well
--- within its call's 30 seconds.
local RUN_SECONDS = 20

--- A page of the alerts updated after `after` (its text) and, when `upper` (ticks) is given, not
--- after it: Graph's answer read, or an error that says what came instead.
local function page(config, bearer, after, upper)
  local filter = "lastUpdateDateTime gt " .. after
  if upper then filter = filter .. " and lastUpdateDateTime le " .. timestamps.text(upper) end
  local url = ("%s/v1.0/security/alerts_v2?$filter=%s&$top=%d"):format(config.graph_url, escape(filter),
    tonumber(config.page_size))
  local response = http.get(url, { headers = { authorization = bearer } })
  graph.check(response, "alerts", nil, ADVICE)
  local ok, answer = pcall(json.decode, response.body)
  if not ok or type(answer) ~= "table" or type(answer.value) ~= "table" then
    error(("Microsoft Graph, alerts: the answer is not a page of alerts: %s"):format(response.body:sub(1, 200)), 0)
  end
  return answer
end

--- The time of the oldest of `alerts`, a full page of the window after `after` up to `upper`
--- (ticks; nil: open), within that window.
local function oldest(alerts, after, upper)
  local found = upper
  for _, alert in ipairs(alerts) do
    local ticks = timestamps.ticks(alert.lastUpdateDateTime)
    if ticks and (found == nil or ticks < found) then found = ticks end
  end
  if found == nil then
    error("Microsoft Graph, alerts: a full page holds no lastUpdateDateTime to narrow the window by", 0)
  end
  return math.max(found, after + 1)
end

--- The alerts updated since `cursor`, oldest first, in windows of time one page each holds whole
--- (the header says why and how), and the cursor after them.
local function fetch_alerts(context, cursor)
  local config = context.config
  local since = cursor or os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - tonumber(config.first_window))
  local after = { text = since, ticks = timestamps.ticks(since) }
  if not after.ticks then
    error(("the cursor %q is not a time in UTC as Graph writes one: automator fetch list shows it"):format(since), 0)
  end
  local bearer = "Bearer " .. graph.token(http, config)
  local stop = time.now() + RUN_SECONDS
  -- The window is after `after` up to `upper` (open while nil). `width` is the last one a page
  -- held whole; after `top`, the oldest alert of the open window's last full page, that page held
  -- every alert.
  local alerts, upper, width, top = {}, nil, nil, nil
  local asked, moved = 0, false
  repeat
    local answer = page(config, bearer, after.text, upper)
    asked = asked + 1
    if answer["@odata.nextLink"] == nil then
      local latest = after
      for index = #answer.value, 1, -1 do
        local alert = answer.value[index]
        alerts[#alerts + 1] = alert
        local ticks = timestamps.ticks(alert.lastUpdateDateTime)
        if ticks and ticks > latest.ticks then latest = { text = alert.lastUpdateDateTime, ticks = ticks } end
      end
      if upper == nil then return { alerts = alerts, cursor = latest.text } end
      width, after, moved = upper - after.ticks, { text = timestamps.text(upper), ticks = upper }, true
      upper = after.ticks < top and math.min(after.ticks + 2 * width, top) or nil
    elseif upper ~= nil and upper - after.ticks == 1 then
      -- One instant, past halving: the windows taken so far are returned, and the next run says it.
      if moved then break end
      local instant = timestamps.text(upper)
      error(("more than %d alerts were updated at %s: raise integrations.defender.page_size (Graph takes up "
             .. "to 1000 a page), which loses none of them"):format(tonumber(config.page_size), instant), 0)
    elseif upper == nil then
      -- The page holds every alert after its oldest: those up to it are asked for next.
      top = oldest(answer.value, after.ticks)
      upper = top
    else
      upper = after.ticks + (oldest(answer.value, after.ticks, upper) - after.ticks + 1) // 2
    end
  -- Halving ends, at one instant if not before: the first window is always taken.
  until moved and (asked >= tonumber(config.max_pages) or time.now() > stop)
  return { alerts = alerts, cursor = after.text, more = true }
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
    -- Alerts a page (Graph's $top, up to 1000), and pages a run asks for at most: a run that
    -- did not get to the newest alerts returns those it took, and the next one goes on at once.
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
    run = fetch_alerts,
  },
}
