---@meta
-- LuaLS annotations for playbook tests (`*_test.lua`, run by `automator test`). These globals
-- exist only in test files; nothing here runs.

---Declares a test: `body` runs in a world of its own (a new store, new stubs, the clock at its
---start), so tests do not see each other's incidents. A failed `expect` stops it and names
---the test file's line. Declare tests at the top level of the file, each under a name of its
---own: a `test` inside another's body, or a name given twice, is an error.
---@param name string what the playbook should do, as a sentence
---@param body fun()
function test(name, body) end

---What the outside world answers in this test. Stubs apply to everything run after them.
---@class stub
stub = {}

---Verdicts `intel.reputation` (and `intel.reputations`) give, by indicator; any other indicator is `unknown`.
---Each is a verdict name, or `{ verdict = ..., summary = ... }`.
---@param verdicts table<string, "unknown"|"benign"|"suspicious"|"malicious"|{ verdict: string, summary?: string }>
function stub.intel(verdicts) end

---The answer a person gives to the task whose title is `title` (or starts with it), once the
---run waits on it; `options.after` moves the virtual clock first ("3h": the answer comes
---late, and an SLA it passes breaches). A task waited on with no answer fails the test.
---@param title string
---@param answer string one of the task's choices, when it has some
---@param options? { after?: duration }
function stub.task(title, answer, options) end

---The response of the first request whose "METHOD URL", or URL, starts with `request`.
---A request with no stub fails the test, saying which stub to add.
---@param request string such as "GET https://api.example.com/v1/ip/"
---@param response string|{ status?: integer, headers?: table<string, string>, body?: string|table } a table body is sent as JSON
function stub.http(request, response) end

---The answer to the `chat.ask` or `chat.approve` question that contains `question`.
---@param question string
---@param answer string "approve" or "deny" for chat.approve
---@param by? string who answers, "stub" by default
function stub.chat(question, answer, by) end

---How the action `name` ends, told by `actions.run` as on a server: `{ status = "done", result =
---{...} }` returns the record; `{ status = "failed", result = "the API answered 500" }` returns nil
---and "NAME failed: the API answered 500"; `{ status = "failed", error = { code = "quota" } }`: the
---integration raised that table, and why is a copy of it that prints and joins as
---`NAME failed: {code = "quota"}`, as on a server; `false` and a reason: nobody approved it (nil and the
---reason). An action with no stub is planned: the record as a dry run's, recorded in the outcome,
---nothing sent. `name` must be an action an integration in scripts/integrations declares.
---@param name string such as "checkpoint.block_ip"
---@param outcome { status: "done"|"failed"|"planned", result?: any, error?: table, expires_at?: string }|false
---@param reason? string with `false`: what `actions.run` returns second, such as "denied by alice"
function stub.action(name, outcome, reason) end

---What a playbook left: the incident as stored, and what it asked of people and the world.
---@class test.outcome
---@field incident Incident as stored at the end (status, severity, labels, fields, close_reason...)
---@field tasks incidents.task[] in the order they were created
---@field journal test.entry[] oldest first
---@field notes string[] the notes' texts, oldest first
---@field evidence { id: string, name: string, description: string, sha256: string, size: integer, tags: string[] }[] kept on the incident, oldest first
---@field posts { channel: string, text: string }[] chat posts
---@field questions { id: string, channel: string, text: string, choices: string[] }[] chat.ask and chat.approve questions, Q-test1 the first
---@field intel string[] the indicators looked up
---@field http { method: string, url: string, body?: string }[] the requests made
---@field actions test.action[] the actions.run calls

---An entry of an incident's journal: a note, an action, an approval, an SLA...
---@class test.entry
---@field kind string note, action, approval, refused, sla, update, created...
---@field actor string who wrote it: script, automator, slack:alice...
---@field text string

---One `actions.run` call of a test, and how its approval went.
---@class test.action
---@field name string
---@field params table
---@field incident? string
---@field dry_run boolean
---@field question? string Q-test…: the approval asked for it (in `questions`), answered yes, no, or not in time
---@field denied? string why it was not run: "denied by slack:bob", "nobody approved it in time"
---@field undone? boolean true once `actions.undo` or `actions.revert_all` reversed it

---Opens an incident for the test, as the API would (title, type and severity have defaults);
---`sla` sets its SLA, else scripts/sla.lua gives it.
---@param spec incidents.new|{ sla?: duration }
---@return Incident
function incident(spec) end

---Runs the playbook's `run` on a new incident made of `spec` (or on one from `incident{}`),
---to its end, then the SLA hooks the virtual clock called for.
---@param book playbook.definition what `require("playbooks.NAME")` returns
---@param spec? incidents.new|Incident|{ sla?: duration }
---@return test.outcome
function run(book, spec) end

---Moves the virtual clock on: SLAs it passes breach, and their hooks run. Returns `outcome`'s
---incident read again, when given one.
---@param duration duration
---@param outcome? test.outcome
---@return test.outcome?
function advance(duration, outcome) end

---Assertions: each fails the test at the line that called it, with what was expected and got.
---@class expect
expect = {}

---`actual` equals `expected`; tables are compared by content.
---@param actual any
---@param expected any
---@param what? string names the value in the message
function expect.equal(actual, expected, what) end

---@param value any
---@param what? string
function expect.truthy(value, what) end

---A string contains `part` (plain text), or a list has an element equal to `part`.
---@param text string|any[]
---@param part any
---@param what? string
function expect.contains(text, part, what) end

---A note of the outcome contains `part`; returns that note.
---@param outcome test.outcome
---@param part string
---@return string
function expect.note(outcome, part) end

---No note of the outcome contains `part`.
---@param outcome test.outcome
---@param part string
function expect.no_note(outcome, part) end

---An entry of the outcome's journal contains `part` in its text; returns that entry. A miss
---lists the journal. Finds what is no note: an action's outcome, an approval, an SLA breach.
---@param outcome test.outcome
---@param part string
---@return test.entry
function expect.journal(outcome, part) end

---No entry of the outcome's journal contains `part` in its text.
---@param outcome test.outcome
---@param part string
function expect.no_journal(outcome, part) end

---The outcome has a task whose title starts with `title`; returns it.
---@param outcome test.outcome
---@param title string
---@return incidents.task
function expect.task(outcome, title) end

---A chat post in `channel` contains `part`; returns it.
---@param outcome test.outcome
---@param channel string
---@param part string
---@return { channel: string, text: string }
function expect.post(outcome, channel, part) end

---The playbook called `actions.run(name, ...)`, with `params` if given (checked against the
---action's declaration first); returns the call.
---@param outcome test.outcome
---@param name string
---@param params? table
---@return test.action
function expect.action(outcome, name, params) end

---`body` fails with an error that contains `part`; returns the message.
---@param body fun()
---@param part? string
---@return string
function expect.error(body, part) end
