-- Microsoft Sentinel's incidents, fetched every minute through Azure Resource Manager: each
-- incident new or updated since the last fetch, with its entities (hosts, accounts, addresses,
-- files...), goes through scripts/mappers/sentinel.lua, as one posted to
-- POST /api/v1/ingest/sentinel would, and becomes an incident (an update joins the incident it
-- opened). `automator fetch list` shows where the fetch is; `automator fetch run sentinel`
-- fetches now.
-- https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
-- https://learn.microsoft.com/rest/api/securityinsights/incidents/list
-- https://learn.microsoft.com/rest/api/securityinsights/incidents/list-entities
--
-- Register an application in Entra ID, give it the Microsoft Sentinel Reader role on the
-- workspace (its resource group will do), and set SENTINEL_TENANT_ID, SENTINEL_CLIENT_ID,
-- SENTINEL_CLIENT_SECRET, and the workspace's subscription, resource_group and workspace (its
-- name, as the portal shows it) under integrations.sentinel in the configuration. Each fetch
-- gets a token:
--   POST {login_url}/{tenant}/oauth2/v2.0/token  (form: client_id, client_secret, grant_type,
--        scope=https://management.azure.com/.default)           -> { access_token, expires_in }
-- then asks for a page of the incidents modified after the cursor (the first time, those of the
-- last `first_window`), oldest first, and each incident's entities:
--   GET  {workspace}/incidents?api-version=2024-03-01&$filter=properties/lastModifiedTimeUtc gt {cursor}
--        &$orderby=properties/lastModifiedTimeUtc asc&$top={page_size}   -> { value, nextLink }
--   POST {workspace}/incidents/{name}/entities?api-version=2024-03-01     -> { entities, metaData }
-- where {workspace} is {management_url}/subscriptions/{subscription}/resourceGroups/
-- {resource_group}/providers/Microsoft.OperationalInsights/workspaces/{workspace}/providers/
-- Microsoft.SecurityInsights. The cursor moves to the page's last lastModifiedTimeUtc, and when
-- the page is full (a nextLink), the next one is asked for at once, afresh from the cursor, never
-- by nextLink's offset, which an incident modified meanwhile would shift; the incidents at the full
-- page's last instant wait for it, since that instant may go on past the page. A run stays short
-- (a page and its entities) whatever the backlog. Azure answers errors as
-- { error = { code, message } }; a 429's Retry-After is waited out by `http`. The token comes from
-- lib/microsoft.lua, which says how (and how the client secret must be written).

local API_VERSION = "2024-03-01"

local sentinel = require("lib.microsoft").api("Microsoft Sentinel", "https://management.azure.com/.default")
local escape = require("lib.url").escape

--- What Azure's refusals mean here.
local ADVICE = {
  [403] = "give the application the Microsoft Sentinel Reader role on the workspace",
  [404] = "check integrations.sentinel's subscription, resource_group and workspace",
}

--- When `incident` (of a page, or nil) was last modified, in UTC ISO 8601, which sorts as text.
local function modified(incident)
  local properties = type(incident) == "table" and incident.properties
  return type(properties) == "table" and type(properties.lastModifiedTimeUtc) == "string"
    and properties.lastModifiedTimeUtc or nil
end

--- Azure's answer to `response` as a table holding the list `list`, or an error that says what
--- came instead.
local function answer(response, what, list)
  sentinel.check(response, what, nil, ADVICE)
  local ok, decoded = pcall(json.decode, response.body)
  if not ok or type(decoded) ~= "table" or type(decoded[list]) ~= "table" then
    error(("Microsoft Sentinel, %s: the answer is not a list of %s: %s"):format(what, what, response.body:sub(1, 200)), 0)
  end
  return decoded
end

return integration {
  name = "Microsoft Sentinel",
  config = {
    login_url = "https://login.microsoftonline.com",
    management_url = "https://management.azure.com",
    tenant = { env = "SENTINEL_TENANT_ID", required = true },
    client_id = { env = "SENTINEL_CLIENT_ID", required = true },
    client_secret = { secret = true, env = "SENTINEL_CLIENT_SECRET", required = true },
    subscription = { required = true },
    resource_group = { required = true },
    workspace = { required = true },
    -- How far back the first fetch looks, in seconds: not the workspace's whole history.
    first_window = 3600,
    -- Incidents a page ($top, at most 1000): a run reads one, and the next page comes at once.
    page_size = 50,
  },
  -- A token, a page, and one call for each incident's entities.
  rate = { per_minute = 600 },
  fetch = {
    every = "1m",
    source = "sentinel",
    run = function(context, cursor)
      local config = context.config
      local since = cursor or os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - tonumber(config.first_window))
      local page_size = tonumber(config.page_size)
      local headers = { authorization = "Bearer " .. sentinel.token(http, config) }
      local workspace = ("%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OperationalInsights/workspaces/%s"
        .. "/providers/Microsoft.SecurityInsights"):format(config.management_url, config.subscription,
        config.resource_group, config.workspace)
      local url = ("%s/incidents?api-version=%s&$filter=%s&$orderby=%s&$top=%d"):format(workspace, API_VERSION,
        escape("properties/lastModifiedTimeUtc gt " .. since), escape("properties/lastModifiedTimeUtc asc"), page_size)
      local page = answer(http.get(url, { headers = headers }), "incidents", "value")
      local incidents, more = page.value, type(page.nextLink) == "string"
      if more then
        -- A full page's last instant may go on past it: its incidents wait for the next page.
        local last = modified(incidents[#incidents])
        while #incidents > 0 and modified(incidents[#incidents]) == last do incidents[#incidents] = nil end
        if #incidents == 0 then
          error(("more than %d incidents were modified at %s: raise integrations.sentinel.page_size (at most 1000),"
                 .. " which loses none of them"):format(page_size, last), 0)
        end
      end
      for _, incident in ipairs(incidents) do
        -- One without a name has no entities to ask for: the mapper keeps it unmapped, saying why.
        if type(incident.name) == "string" then
          local entities = ("%s/incidents/%s/entities?api-version=%s"):format(workspace, escape(incident.name), API_VERSION)
          incident.entities = answer(http.post(entities, "", { headers = headers }), "entities", "entities").entities
        end
      end
      -- Oldest first, as asked: the last one's time is the latest.
      return { alerts = incidents, cursor = modified(incidents[#incidents]) or since, more = more }
    end,
  },
}
