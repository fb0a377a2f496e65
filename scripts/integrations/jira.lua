-- Jira (Cloud or Data Center, REST API v2): open an issue, comment on one, close one (reopen it).
-- https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-post
--   POST /rest/api/2/issue { fields = { project = { key }, summary, description, issuetype,
--        labels } }                                             -> 201 { id, key, self }
--   POST /rest/api/2/issue/{key}/comment { body }                -> 201 { id }
--   GET  /rest/api/2/search?jql=...                              -> { issues = { { key } } }
--   GET  /rest/api/2/issue/{key}?fields=status  -> { key, fields = { status = { name, statusCategory = { key } } } }
--   GET  /rest/api/2/issue/{key}/transitions
--        -> { transitions = { { id, name, to = { name, statusCategory = { key } } }... } }
--   POST /rest/api/2/issue/{key}/transitions { transition = { id },
--        update = { comment = { { add = { body } } } } }         -> 204
-- Errors are { errorMessages = { ... }, errors = { field = message } }.
--
-- Set JIRA_URL, JIRA_PROJECT and JIRA_AUTHORIZATION, the whole Authorization header: "Basic "
-- and the base64 of "EMAIL:API_TOKEN" on Cloud, "Bearer TOKEN" (a personal access token) on Data
-- Center. Jira takes no idempotency key: the issue carries a label made from the action's key,
-- and a replay that finds an issue with it returns that issue instead of opening another.
--
-- close_issue moves an issue to a done status (scripts/lib/writeback.lua closes those an incident
-- opened when it closes): the transition whose target's status category is `done`, or the one
-- named by integrations.jira.done_transition where a workflow has several, with the comment made
-- in the same request. Workflows differ, so the transitions are read each time. An issue in a done
-- status already (closed by someone, or by this action before a crash) is left as it is, without
-- a second comment. The account needs the project's "Transition issues" and "Add comments"
-- permissions; Jira lists no transition to an account without the first.

--- Raises Jira's error for a response that is not `expected`.
local function check(response, what, expected)
  if response.status == expected then return end
  local ok, answer = pcall(json.decode, response.body)
  local problems = {}
  if ok and type(answer) == "table" then
    for _, message in ipairs(answer.errorMessages or {}) do problems[#problems + 1] = message end
    for field, message in pairs(type(answer.errors) == "table" and answer.errors or {}) do
      problems[#problems + 1] = field .. ": " .. tostring(message)
    end
  end
  if #problems == 0 then problems[1] = response.body:sub(1, 200) end
  error(("Jira, %s: %d %s"):format(what, response.status, table.concat(problems, "; ")), 0)
end

local function request(config, method, path, body)
  return http.request{
    method = method, url = config.base_url .. path, body = body and json.encode(body) or nil,
    headers = { authorization = config.authorization, ["content-type"] = "application/json",
                accept = "application/json" },
  }
end

--- What close_issue and its undo are given.
local CLOSING = {
  issue = { type = "string", required = true, description = "SEC-42" },
  comment = { type = "string", description = "added as the issue moves, in the same request" },
}

--- `issue` checked as a key, or an error that shows one.
local function key_of(issue)
  if not issue:match("^%u[%u%d_]*%-%d+$") then error("issue must be a key such as SEC-42", 0) end
  return issue
end

--- Raises Jira's error for a response that is not `expected`, with what a 404 means here.
local function check_issue(response, what, expected, issue)
  if response.status == 404 then
    error(("Jira, %s: 404 no issue %s, or the account may not browse it"):format(what, issue), 0)
  end
  check(response, what, expected)
end

--- The issue's status: its name and its category's key (new, indeterminate, done).
local function status_of(config, issue, what)
  local response = request(config, "GET", ("/rest/api/2/issue/%s?fields=status"):format(issue))
  check_issue(response, what, 200, issue)
  local status = json.decode(response.body).fields.status
  return status.name, status.statusCategory.key
end

--- The first transition of `issue` that `fits`, or an error that lists those Jira offers.
local function transition_to(config, issue, what, fits, wanted)
  local response = request(config, "GET", ("/rest/api/2/issue/%s/transitions"):format(issue))
  check_issue(response, what, 200, issue)
  local offered = json.decode(response.body).transitions or {}
  local names = {}
  for _, transition in ipairs(offered) do
    if fits(transition) then return transition end
    names[#names + 1] = ("%s (to %s)"):format(transition.name, transition.to.name)
  end
  if #names == 0 then
    error(("Jira, %s: no transition of %s leads to %s; it offers none to this account (give it the project's "
           .. "Transition issues permission)"):format(what, issue, wanted), 0)
  end
  error(("Jira, %s: no transition of %s leads to %s; it offers %s: move it in Jira"):format(what, issue, wanted,
    table.concat(names, ", ")), 0)
end

--- Moves `issue` through `transition`, with `comment` when given.
local function move(config, issue, transition, comment, what)
  local body = { transition = { id = transition.id } }
  if comment then body.update = { comment = { { add = { body = comment } } } } end
  check_issue(request(config, "POST", ("/rest/api/2/issue/%s/transitions"):format(issue), body), what, 204, issue)
end

return integration {
  name = "Jira",
  config = {
    base_url = { env = "JIRA_URL", required = true },
    project = { env = "JIRA_PROJECT", required = true },
    issue_type = "Task",
    authorization = { secret = true, env = "JIRA_AUTHORIZATION", required = true },
    -- The transition close_issue takes, by name, where more than one leads to a done status.
    done_transition = { env = "JIRA_DONE_TRANSITION" },
  },
  rate = { per_minute = 60 },
  actions = {
    create_issue = {
      description = "Opens an issue in the configured project",
      risk = "low",
      params = { summary = { type = "string", required = true }, description = { type = "string" } },
      run = function(params, context)
        local config = context.config
        local label = "automator-" .. context.idempotency_key:gsub("[^%w%-]", "-")
        local found = request(config, "GET", "/rest/api/2/search?fields=key&jql=labels%3D" .. label)
        check(found, "search", 200)
        local existing = json.decode(found.body).issues
        if type(existing) == "table" and existing[1] then return { key = existing[1].key, existed = true } end
        local response = request(config, "POST", "/rest/api/2/issue", { fields = {
          project = { key = config.project }, issuetype = { name = config.issue_type }, summary = params.summary,
          description = params.description or ("Opened by automator for " .. (context.incident or context.requested_by)),
          labels = { label },
        } })
        check(response, "create issue", 201)
        return { key = json.decode(response.body).key }
      end,
    },
    comment = {
      description = "Adds a comment to an issue",
      risk = "low",
      params = { issue = { type = "string", required = true, description = "SEC-42" },
                 text = { type = "string", required = true } },
      run = function(params, context)
        local response = request(context.config, "POST", ("/rest/api/2/issue/%s/comment"):format(key_of(params.issue)),
                                 { body = params.text })
        check(response, "comment", 201)
        return { issue = params.issue, comment = json.decode(response.body).id }
      end,
    },
    close_issue = {
      description = "Moves the issue to a done status with a comment (one done already is left as it is)",
      risk = "low", undo = "reopen_issue", params = CLOSING, on_closed = true,
      run = function(params, context)
        local config, issue = context.config, key_of(params.issue)
        local status, category = status_of(config, issue, "close")
        if category == "done" then return { issue = issue, status = status, closed_before = true } end
        local named = config.done_transition
        local transition = transition_to(config, issue, "close", function(transition)
          if named then return transition.name == named end
          return transition.to.statusCategory.key == "done"
        end, named and ("the transition " .. named) or "a done status")
        move(config, issue, transition, params.comment, "close")
        return { issue = issue, status = transition.to.name, transition = transition.name }
      end,
    },
    reopen_issue = {
      description = "Moves a done issue back to a status that is not done (one not done is left as it is)",
      risk = "low", params = CLOSING, on_closed = true,
      run = function(params, context)
        local config, issue = context.config, key_of(params.issue)
        local status, category = status_of(config, issue, "reopen")
        if category ~= "done" then return { issue = issue, status = status } end
        local transition = transition_to(config, issue, "reopen", function(transition)
          return transition.to.statusCategory.key ~= "done"
        end, "a status that is not done")
        move(config, issue, transition, nil, "reopen")
        return { issue = issue, status = transition.to.name, transition = transition.name }
      end,
    },
  },
}
