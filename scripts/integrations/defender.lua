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

local graph = require("lib.microsoft").api("Microsoft Graph", "https://graph.microsoft.com/.default")
local escape = require("lib.url").escape

--- What Graph's 403 means here.
local ADVICE = { [403] = "grant the application SecurityAlert.Read.All, with admin consent" }

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
