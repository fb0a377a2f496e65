---@meta
-- LuaLS annotations for the modules Automator gives every script, so that editors complete
-- and check them. Nothing here runs: the host provides the real functions.

---JSON text to Lua values and back, for webhook payloads, alerts and API bodies.
---@class json
json = {}

---JSON's `null`. It is a value (true in a condition): compare with it, `x == json.null`.
---@type lightuserdata
json.null = nil

---Decodes strict RFC 8259 JSON. Objects become tables with string keys, arrays sequences,
---`null` becomes `json.null`; integer literals that fit 64 bits become integers, other
---numbers floats. Errors say the line, column and byte of the fault.
---@param text string
---@return any
function json.decode(text) end

---Encodes a value as JSON: compact, or with `options.indent` spaces per level (0 to 16).
---Object keys are sorted. A table is an array when marked by `json.array` or when its keys
---are exactly 1..n; an empty unmarked table is `{}`; any other table must have string keys.
---@param value any
---@param options? { indent?: integer }
---@return string
function json.encode(value, options) end

---Marks `t` as an array, so that it encodes as `[]` even when empty. Returns `t`.
---@generic T: table
---@param t T
---@return T
function json.array(t) end

---Messages for the operator, through the host's logger (standard error on the command line).
---@class log
log = {}

---@alias log.fields table<string, string|number|boolean>

---@param message any
---@param fields? log.fields entries become the record's metadata
function log.debug(message, fields) end

---@param message any
---@param fields? log.fields
function log.info(message, fields) end

---@param message any
---@param fields? log.fields
function log.warn(message, fields) end

---@param message any
---@param fields? log.fields
function log.error(message, fields) end

---The clock, from the host. In a durable run (`automator serve`) every reading is recorded,
---and a run resumed after a restart reads the same times again; `os.time()` and `os.date()`
---read the same clock.
---@class time
time = {}

---Seconds since the Unix epoch, with fractions.
---@return number
function time.now() end

---Suspends the run for `seconds` (0 to a year); other runs go on meanwhile. Fails inside a
---metamethod or a function the host calls (such as a `table.sort` comparison). A durable run
---resumed after a restart sleeps only what was left.
---@param seconds number
function time.sleep(seconds) end

---HTTP and HTTPS to the hosts the operator allows (`--allow-http HOST[:PORT]`), and no others.
---Each call suspends the run while it waits; in a durable run the response is recorded, and a
---run resumed after a restart gets it back without sending the request again.
---@class http
http = {}

---@class http.options
---@field url? string http:// or https://
---@field method? string GET (the default), POST, PUT, DELETE...
---@field headers? table<string, string>
---@field body? string
---@field timeout? number seconds; 30 by default

---@class http.response
---@field status integer any status is a response, 404 and 500 included
---@field headers table<string, string> names in lower case
---@field body string

---Sends a request. A host that is not allowed, a failure to connect or a timeout raises an
---error at the call. Redirects are not followed: a 3xx is a response like any other. In a
---playbook, a request other than GET, HEAD or OPTIONS carries an `Idempotency-Key` header (the
---run and the call, the same if a crash makes it send again) unless `headers` sets one.
---@param options http.options
---@return http.response
function http.request(options) end

---@param url string
---@param options? http.options
---@return http.response
function http.get(url, options) end

---@param url string
---@param body string
---@param options? http.options
---@return http.response
function http.post(url, body, options) end

---The HMAC-SHA256 of `message`, in hexadecimal, for APIs and webhooks that sign requests. In an
---integration the key may be a secret's placeholder (`config.secret`): the host signs with the
---secret, which the script never sees. A list of messages is a chain, each MAC the key of the
---next, the last one's in hexadecimal: AWS Signature Version 4's signing key and signature
---(`http.hmac_sha256("AWS4" .. secret, { date, region, service, "aws4_request", string_to_sign })`,
---see lib/sigv4.lua), whose derived keys never leave the host.
---@param key string
---@param message string|string[]
---@return string
function http.hmac_sha256(key, message) end

---The SHA-256 of `text`, in hexadecimal, for signatures that hash a request (AWS Signature Version
---4). Secrets' placeholders are filled in first, as `http.request` sends them.
---@param text string
---@return string
function http.sha256(text) end

---E-mail from integrations, to the SMTP relay their configuration names (smtp://HOST:PORT).
---@class smtp
smtp = {}

---Sends a plain-text message; returns its Message-ID. STARTTLS is required unless `starttls` is
---"opportunistic" or "off"; the certificate is checked against the system's trust store or
---`ca_file`; `username` and `password` (a secret's placeholder) log in after TLS, never before.
---@param message { server: string, from: string, to: string|string[], subject: string, text: string, message_id?: string, starttls?: "required"|"opportunistic"|"off", ca_file?: string, username?: string, password?: string }
---@return string
function smtp.send(message) end

---A span of time: "90s", "15m", "4h", "2d", or a number of seconds.
---@alias duration string|number

---@alias incident.severity "info"|"low"|"medium"|"high"|"critical"
---@alias incident.status "new"|"active"|"pending"|"closed"

---An incident, as a playbook, a hook or `incidents.find` gets it. Its methods are durable:
---each is recorded, and a run replayed after a crash does not do it again.
---@class Incident
---@field id string such as "INC-42"
---@field title string
---@field type string such as "phishing"; playbooks and the SLA policy go by it
---@field severity incident.severity
---@field status incident.status
---@field owner? string a person or a team, such as "tier1"
---@field labels string[]
---@field fields table<string, any> custom values, such as `fields.sender`; one stored as null is nil
---@field details string free text, "" when there is none
---@field raw any the source's payload, decoded JSON; nil when there was none
---@field source? string where it came from, such as the SOURCE of `/api/v1/ingest/SOURCE`
---@field source_ref? string the source's own id for it
---@field created_at number seconds since the epoch
---@field sla_due? number when the SLA runs out, in seconds since the epoch
---@field close_reason? string set by `inc:close`
---@field closed_at? number when it was closed, in seconds since the epoch
---@field resolution? incident.resolution what it turned out to be, when its close said; nil once reopened
local Incident = {}

---What a closed incident turned out to be: a real attack, harmless activity rightly detected (an
---admin's scan, a test), a wrong detection, or nobody could tell. Reports count the false
---positives by type.
---@alias incident.resolution "true_positive"|"benign"|"false_positive"|"undetermined"

---Adds a note to the incident's journal, at most 1 MiB. A larger text belongs in the evidence
---(`inc:evidence`), noted by its id.
---@param text string
function Incident:note(text) end

---Changes the fields given and keeps the others: `fields` is merged into the custom fields,
---`labels` replaces the whole list. This table is updated too. Returns the incident.
---A new `severity` or `type` moves the SLA (`sla_due`) to what sla.lua gives them, counted from
---the opening, and breaches it at once if that is already past.
---@param changes incident.changes
---@return Incident
function Incident:update(changes) end

---@class incident.changes
---@field title? string
---@field type? string
---@field severity? incident.severity
---@field status? "new"|"active"|"pending" not "closed": `inc:close` does that
---@field owner? string
---@field labels? string[] the new list
---@field fields? table<string, any> merged into the custom fields; `json.null` removes one
---@field details? string

---Raises the severity to `severity`, with a note saying why; never lowers it. Returns whether
---it changed. The SLA moves with it, as with `inc:update`.
---@param severity incident.severity
---@param why string
---@return boolean
function Incident:raise(severity, why) end

---Adds the labels the incident does not have yet; the others stay.
---@param ... string
function Incident:label(...) end

---Creates a task for a person; `task:wait()` waits for their answer.
---@param options incident.task
---@return Task
function Incident:task(options) end

---@class incident.task
---@field title string
---@field owner? string a person or a team, such as "tier1"
---@field due? duration from now, above 0: "2h", or seconds
---@field description? string what to do, for the person
---@field choices? string[] the answers allowed, such as `{ "yes", "no" }`; free text without

---Closes the incident: its open tasks are cancelled, and its other runs (a playbook waiting on
---a person, say) are stopped, on whichever worker executes them; the run that closes it goes on.
---On an incident closed already (by a person, say), its close reason and time stay: a run of the
---incident ends there, `killed` by that close as its other runs are; another script gets an error.
---Each close starts scripts/hooks/incident_closed.lua, when there is one, with the closed incident
---as `...`, once, as a run of its own: it may fail without undoing the close.
---@param options { reason: string, resolution?: incident.resolution }
function Incident:close(options) end

---@class evidence.spec
---@field name? string the file's name; from `path` when not given
---@field data? string the content (one of data and path)
---@field path? string a file in DATA/evidence/inbox: scripts reach no other
---@field description? string
---@field tags? string[]

---@class evidence.custody
---@field at number
---@field actor string
---@field action "added"|"viewed"|"exported"
---@field detail string

---@class evidence.record
---@field id string such as "EV-3f9a2c1d4e5b"
---@field incident string
---@field name string
---@field description string
---@field tags string[]
---@field size integer
---@field md5 string
---@field sha1 string
---@field sha256 string
---@field source string where it came from: "playbook", "cli", "chat", a tool's name
---@field collected_by string
---@field collected_at number
---@field custody evidence.custody[]

---Keeps a file as evidence on the incident: hashed (MD5, SHA-1, SHA-256), stored by content,
---journaled, with its chain of custody. A resumed run does not add it twice.
---@param spec evidence.spec
---@return evidence.record
function Incident:evidence(spec) end

---Links another incident to this one.
---@param other Incident|string the incident or its id
function Incident:link(other) end

---A manual step for a person, made by `inc:task{ ... }`.
---@class Task
---@field id string such as "T-7"
---@field title string
---@field owner? string
---@field due? number seconds since the epoch
---@field status "open"|"done"|"cancelled" cancelled when its incident was closed while it was open
---@field answer? string set by `t:wait()`
local Task = {}

---Suspends the run until a person completes the task, and returns their answer: one of the
---choices, free text, or "" when they gave none. A durable run waits across restarts. Raises
---an error when the task is cancelled (its incident was closed).
---@return string
function Task:wait() end

---Past incidents, to look back at: "have we seen this indicator before?"
---@class incidents
incidents = {}

---@class incidents.query
---@field type? string
---@field severity? incident.severity|incident.severity[]
---@field status? incident.status|incident.status[]
---@field source? string
---@field source_ref? string the source's own id, exactly: the incidents one alert opened or joined
---@field owner? string
---@field text? string a substring of the title, details, fields or raw payload
---@field indicator? string an IP, domain, URL, e-mail address, hash or CVE the incident mentions (exactly: 10.0.0.1 is not 10.0.0.12)
---@field since? duration how far back, such as "30d"
---@field limit? integer at most this many, 1 to 1000; 20 by default

---The incidents that match every option given, newest first.
---@param query incidents.query
---@return Incident[]
function incidents.find(query) end

---The newest incident that mentions an indicator, what "seen in INC-12, closed 3 days ago" needs:
---cheaper than `incidents.find{ indicator = ..., limit = 2 }`, which reads whole incidents.
---@class incidents.sighting
---@field id string such as "INC-12"
---@field status incident.status
---@field created_at number seconds since 1970
---@field closed_at? number seconds since 1970, once closed

---The newest incident that mentions `indicator` (as `find`'s `indicator`: exactly), leaving out
---`except` (the incident a message is about), or nil.
---@param indicator string an IP, domain, URL, e-mail address, hash or CVE
---@param except? string an incident id such as "INC-42"
---@return incidents.sighting?
function incidents.seen(indicator, except) end

---The incident with this id, or nil.
---@param id string such as "INC-42"
---@return Incident?
function incidents.get(id) end

---@class incidents.new
---@field title string
---@field type string
---@field severity incident.severity
---@field details? string
---@field owner? string
---@field labels? string[]
---@field fields? table<string, any>

---Opens an incident; the playbook that matches it starts, as for any new incident.
---@param spec incidents.new
---@return Incident
function incidents.create(spec) end

---@class incidents.task: Task
---@field incident string its incident's id
---@field overdue boolean
---@field description string
---@field choices string[]
---@field completed_by? string
---@field created_at number seconds since the epoch
---@field completed_at? number

---Tasks, the open ones first, the most urgent first: of one incident or of all, open, done,
---cancelled or all.
---@param incident_id? string
---@param status? "open"|"done"|"cancelled"
---@return incidents.task[]
function incidents.tasks(incident_id, status) end

---Completes a task with an answer (one of its choices, when it has some): the run waiting on it
---goes on. Errors for an unknown task, or one already done.
---@param task_id string such as "T-7"
---@param answer? string
---@return incidents.task
function incidents.complete_task(task_id, answer) end

---Gives an open task to another person or team, journaled on its incident; the run waiting on
---it goes on waiting.
---@param task_id string such as "T-7"
---@param owner string such as "alice" or "tier2"
---@return incidents.task
function incidents.assign_task(task_id, owner) end

---Which incidents a playbook takes: each field given must match, a list matches any of its
---values, and `labels` matches an incident that has the label.
---@class playbook.match
---@field type? string|string[]
---@field severity? incident.severity|incident.severity[]
---@field status? incident.status|incident.status[]
---@field source? string|string[]
---@field owner? string|string[]
---@field title? string|string[]
---@field labels? string|string[]

---@class playbook.definition
---@field name string unique among the playbooks
---@field match? playbook.match|fun(inc: Incident): boolean without it, the playbook runs only when asked for by name
---@field priority? integer higher is tried first; 0 by default, ties go by name
---@field sla? duration the incident's SLA; without it, the policy of scripts/sla.lua
---@field run fun(inc: Incident) the automated steps
---@field on_sla_breach? fun(inc: Incident) without it, scripts/hooks/sla_breach.lua runs
---@field approvals? string[] actions this playbook may run without asking an approver ("checkpoint.block_ip")

---Declares a playbook, in a file of its own that returns it: `return playbook { ... }`.
---@param definition playbook.definition
---@return playbook.definition
function playbook(definition) end

---What a mapper's `map` returns. The host sets `source` from the URL and keeps the alert as
---the incident's `raw`.
---@class mapper.incident
---@field title string
---@field type string
---@field severity incident.severity
---@field source_ref? string the alert's id: deduplication compares it
---@field details? string
---@field owner? string
---@field labels? string[]
---@field fields? table<string, any>

---@class mapper.definition
---@field map fun(alert: any): mapper.incident turns the decoded alert into an incident
---An alert with the source and `source_ref` of an open incident within this window is linked
---to it instead of opening another: 24h by default, "0" turns it off.
---@field dedup_window? duration
---Called when such an incident exists, with what `map` returned: false opens a new one anyway.
---@field is_duplicate? fun(new: mapper.incident, existing: Incident): boolean

---Declares how alerts posted to `POST /api/v1/ingest/SOURCE` become incidents, in
---scripts/mappers/SOURCE.lua: `return mapper { ... }`.
---@param definition mapper.definition
---@return mapper.definition
function mapper(definition) end

---Indicators in text, and what the local feeds and the integrations say of them.
---@class intel
intel = {}

---@alias intel.type "ipv4"|"ipv6"|"domain"|"url"|"email"|"md5"|"sha1"|"sha256"|"sha512"|"cve"
---@alias intel.verdict "unknown"|"benign"|"suspicious"|"malicious"

---@class intel.indicator
---@field type intel.type
---@field value string in normal form: refanged, host names in lower case (IDN as A-labels), IPv6 compressed, hashes in lower case, CVEs in upper case
---@field first integer where it starts in the text, as `string.sub` counts
---@field last integer where it ends

---The indicators in `text`, in order, each once. Defanged forms (`hxxp`, `[.]`, `[at]`...) and
---Slack's `<url|text>` are understood; file names, internal names, MAC addresses, timestamps
---and version strings are not taken for indicators.
---@param text string
---@return intel.indicator[]
function intel.extract(text) end

--- `text` with each URL, domain, IPv4 and e-mail address in it defanged, for what a script writes
--- into chat, where a live link is a click away: "Phish from http://evil.example/login" gives
--- "Phish from hxxp://evil[.]example/login" (the scheme, and the host's last dot). Hashes, CVEs
--- and IPv6 addresses stay as written; `intel.extract` reads the defanged text back.
---@param text string
---@return string
function intel.defang(text) end

--- A name or URL written with A-labels as people read it, defanged, and the look-alike scripts
--- it mixes: `intel.unicode("xn--80ak6aa92e.com")` gives "аррӏе[.]com", "Cyrillic and Latin".
--- Nil for an indicator without A-labels; the second value is nil when its letters are of one script.
---@param value string
---@return string? unicode
---@return string? mixed
function intel.unicode(value) end

---@class intel.source
---@field source string the feed or integration
---@field verdict intel.verdict
---@field reliability "A"|"B"|"C"|"D"|"E"|"F"
---@field reason string such as "14/92 engines"
---@field paused_since? number seconds since 1970: the integration rests after its service failed (not asked, or failing in this lookup), since then
---@field paused_until? number seconds since 1970: when its rest ends and one lookup asks it again

---@class intel.result
---@field verdict intel.verdict
---@field score integer 0 unknown, 1 benign, 2 suspicious, 3 malicious
---@field summary string the reasons, for people: `malicious: 2 of 3 sources; VirusTotal 14/92 engines; ...`
---@field sources intel.source[]

---The verdict on an indicator: the local feeds and every integration that handles its kind are
---asked at once (an allowlist wins). Suspends the run meanwhile; in a durable run the answer is
---recorded, so a resumed run does not ask again.
---@param value string an IP, domain, URL, e-mail address or hash, defanged or not
---@param type? intel.type when the value alone does not say
---@return intel.result
function intel.reputation(value, type) end

---The verdicts on several indicators, in their order, all asked at once: a source that is slow
---or down (an integration's retries take up to a minute) is waited for once, not once per
---indicator. What a message holds is looked up so.
---```lua
---local found = intel.extract(text)
---for i, verdict in ipairs(intel.reputations(found)) do print(found[i].value, verdict.summary) end
---```
---@param indicators (string|{ type?: intel.type, value: string })[] values, or what `intel.extract` gives
---@return intel.result[]
function intel.reputations(indicators) end

---@class intel.file_result: intel.result
---@field md5 string
---@field sha1 string
---@field sha256 string

---A file's MD5, SHA-1 and SHA-256, and the verdict on them.
---@param bytes string the file's content
---@return intel.file_result
function intel.file(bytes) end

---@class integration.setting
---@field default? string
---@field secret? boolean the script sees a placeholder (`{{secret:NAME:TAG}}`), which only `http` and `smtp` replace
---@field env? string the environment variable that gives it
---@field required? boolean the integration is not used without it

---@class integration.answer
---@field score intel.verdict|integer
---@field reason string for people, such as "14/92 engines"

---@class integration.definition
---@field name string
---@field reliability? "A"|"B"|"C"|"D"|"E"|"F" C by default; the configuration may change it
---@field config? table<string, string|integration.setting> settings; a URL's host is the only one its `http` reaches
---@field rate? { per_second?: integer, per_minute?: integer, per_day?: integer } quotas: lookups over them wait
---@field reputation? table<"ip"|"domain"|"url"|"file"|"email", fun(value: string, config: table<string, string>): integration.answer?>
---@field actions? table<string, integration.action> what it can do (docs/integrations.md)
---@field fetch? integration.fetch alerts `serve` pulls from the service, for tools that cannot push them

---@alias integration.param_type "string"|"integer"|"number"|"boolean"|"ip"|"cidr"|"account"|"host"

---@class integration.param
---@field type integration.param_type checked before anything is sent (protected networks and accounts refused)
---@field required? boolean
---@field description? string

---@class integration.context
---@field config table<string, string> the settings, secrets as placeholders
---@field idempotency_key string the run's id and the call's number: pass it to APIs that take one
---@field incident? string
---@field requested_by string
---@field approved_by? string
---@field result? any for an undo: what the action it reverses returned

---@class integration.action
---@field run fun(params: table<string, any>, context: integration.context): any what it returns is recorded and journaled
---@field description? string
---@field risk? "low"|"medium"|"high"|"critical" high by default; at or above actions.approval.risk it needs an approval
---@field undo? string the action of this integration that reverses it, given the same params
---@field ttl? duration the undo runs by itself after this (needs an undo)
---@field on_closed? boolean it may run on a closed incident: it takes the close to the incident's source, nothing else
---@field params? table<string, integration.param|integration.param_type>

---@class integration.fetch_context
---@field config table<string, string> the settings, secrets as placeholders

---@class integration.page
---@field alerts table[] the alerts as the service gave them: each goes through mappers/SOURCE.lua as a POST /api/v1/ingest/SOURCE would
---@field cursor? string where the next run starts (a time, a page token); nil keeps the one it was given
---@field more? boolean the service has more now: the next run comes at once

---@class integration.fetch
---@field every duration how often `serve` (its leader, on a shared store) runs it; a failing one waits longer each time
---@field source? string the mapper its alerts go through, scripts/mappers/SOURCE.lua: the integration's name by default
---@field run fun(context: integration.fetch_context, cursor: string?): integration.page the cursor is kept only once the page's alerts are; nil the first time

---Declares a threat-intel integration, in scripts/integrations/NAME.lua: `return integration { ... }`.
---Settings come from the configuration file (`integrations.NAME.KEY`), else the environment, else
---the default.
---@param definition integration.definition
---@return integration.definition
function integration(definition) end

---Evidence kept on incidents (`inc:evidence{ ... }` adds it).
---@class evidence
evidence = {}

---The evidence with its chain of custody (this look is noted in it).
---@param id string
---@return evidence.record
function evidence.get(id) end

---Keeps a file as evidence on an incident; `inc:evidence(spec)` is the same on its incident.
---@param incident_id string
---@param spec evidence.spec
---@return evidence.record
function evidence.add(incident_id, spec) end

---The chat networks (Slack, Matrix, the console of `automator chat`): what the bot's commands
---and watcher use, and what playbooks use to tell people and to ask them.
---@class chat
chat = {}

---@class chat.channel
---@field id string the network's id: C0123ABCD on Slack, !room:server on Matrix
---@field name string without "#"
---@field direct boolean a direct conversation with the bot

---@class chat.user
---@field id string
---@field name string as shown: on Matrix a display name, which anyone may take ("alice")
---@field handle string what names them for good: a Slack user name, a Matrix id (@alice:example.org)
---@field who string how the bot writes them in what it keeps: the handle, the name beside it if it differs

---@class chat.file
---@field id string
---@field name string
---@field size? integer
---@field mimeType? string
---@field url string where the network serves it

---What is known of an edit besides its new text.
---@class chat.edit
---@field previous? string the text before the edit, when the bot has it

---A message the bot received: what `command` and `watch` functions get.
---@class Message
---@field id string an edit's is the id of the message it edits
---@field network string "slack", "matrix" or "console"
---@field text string as written (Slack's <url|text> markup included: `intel.extract` reads it)
---@field channel chat.channel
---@field user chat.user
---@field thread? string the thread's first message, for a reply in a thread
---@field reply_to? string the message it answers
---@field files chat.file[]
---@field links string[] targets of links the text does not show (a Matrix message's HTML `<a href>`)
---@field edit? chat.edit set when the message is an edit of an earlier one (the watcher's only)
---@field at number seconds since the epoch
---@field incident? string the incident whose war room the channel is
---@field replied? Message the message it answers, when it had files and is recent
local Message = {}

---Answers in the message's thread (plainly in a direct conversation); returns the answer's id.
---With `{ journal = true }`, an answer in a war room is kept in its incident's journal too, as
---the bot's line (kind chat, by automator): for verdicts, not for every `!help`.
---@param text string
---@param options? { journal?: boolean }
---@return string
function Message:reply(text, options) end

---Adds a reaction: a name such as "eyes" (Slack), or the emoji (Matrix).
---@param emoji string
function Message:react(emoji) end

---The file's MD5, SHA-1, SHA-256 and the verdict on them; the bytes stay in the host.
---@param file chat.file one of `msg.files`
---@return intel.file_result
function Message:check(file) end

---Keeps one of the message's files, or with `file` nil the message's own text (who wrote it,
---where, when), as evidence on an incident.
---@param file chat.file?
---@param incident_id string
---@param description? string
---@return evidence.record
function Message:keep(file, incident_id, description) end

---True the first time `key` is given for the message's channel since the bot started, false
---after: for a note the channel needs once, not with every message (the watcher's word that a
---paused integration is not checking what is posted there).
---@param key string
---@return boolean
function Message:once(key) end

---The file's bytes. A durable run records them: to check a file, use `msg:check`.
---@param file chat.file
---@return string
function Message:download(file) end

---@class chat.options
---@field network? string the first configured when not given
---@field thread? string posts as a reply to this message

---Posts in a channel ("#soc", or an id); returns the message's id.
---@param channel string
---@param text string
---@param options? chat.options
---@return string
function chat.post(channel, text, options) end

---@param channel string
---@param name string the file's name
---@param data string its bytes
---@param options? { network?: string, comment?: string }
function chat.upload(channel, name, data, options) end

---Asks in a channel and suspends the run until someone answers (a button on Slack, a reply in
---the question's thread elsewhere: a choice or its number). The question is kept in the store:
---a run waits across restarts. Returns the choice, who made it ("slack:alice") and the
---question's id ("Q-…", as `automator question answer` takes it).
---@param channel string
---@param question string
---@param choices string[]
---@param options? { network?: string, roles?: string[], timeout?: number, incident?: Incident|string, note?: string } only people with one of `roles` may answer; unanswered after `timeout` seconds: "timeout", "automator"; `note`, a line posted under the question, is not compared by a replay
---@return string choice
---@return string by
---@return string question
function chat.ask(channel, question, choices, options) end

---Asks for an approval ("approve" or "deny"); returns true if approved, who decided
---("automator" when nobody answered within `options.timeout` seconds) and the question's id. Only the people
---`chat.roles.approver` names may answer (`options.roles` names other roles instead); while no one holds the
---role, no one in chat may, and an operator answers with `automator question answer`.
---@param channel string
---@param question string
---@param options? { network?: string, roles?: string[], timeout?: number, incident?: Incident|string, note?: string }
---@return boolean approved
---@return string by
---@return string question
function chat.approve(channel, question, options) end

---@class chat.settings
---@field id string
---@field name string
---@field watched boolean every indicator and file posted there is checked
---@field verbose boolean every result is posted, not only the malicious ones
---@field incident? string the incident whose war room it is
---@field changed_by string

---The channels the bot was told about.
---@param network? string
---@return chat.settings[]
function chat.channels(network) end

---The channels the bot could join.
---@param network? string
---@return chat.channel[]
function chat.available(network) end

---The channel a name, id or Matrix alias (`#soc:example.org`) names, as `chat.join` finds it. One
---the bot cannot see, or a name several channels share, is an error.
---@param network? string
---@param channel string
---@return chat.channel
function chat.channel(network, channel) end

---Joins a channel (by name or id) and watches it. Raises an error for a name several channels
---share (it lists their ids), and for a channel where the bot may not post (it leaves it again,
---unless it is a war room).
---@param network? string
---@param channel string
---@return chat.settings
function chat.join(network, channel) end

---Stops watching a channel and leaves it; a war room stops being one (its journal says so).
---@param network? string
---@param channel string
---@return chat.settings
function chat.leave(network, channel) end

---Posts every result in the channel (`on`; joins it if need be), or only the malicious ones.
---@param network? string
---@param channel string
---@param on boolean
---@return chat.settings
function chat.verbose(network, channel, on) end

---Makes a channel the war room of an incident: what is said there is journaled on it. The war
---room of another incident passes to this one, both journals saying so.
---@param network? string
---@param channel string
---@param incident_id string
---@return chat.settings
function chat.warroom(network, channel, incident_id) end

---@class chat.command_info
---@field name string
---@field usage string
---@field help string
---@field roles string[] who may run it (anyone when empty)
---@field roles_by_word table<string, string[]> who may run it with this first word (`close`), in place of `roles`

---The commands of scripts/commands/, by name.
---@return chat.command_info[]
function chat.commands() end

---@class command.definition
---@field name string one word: `!name` in a channel, `name` in a direct message
---@field usage? string such as "!ip ADDRESS"; "!name" by default
---@field help? string one line for `help`
---@field roles? table<integer|string, string|string[]> in Slack and Matrix, only people with one of these roles (chat.roles in the configuration) may run it: { "responder" }; by first word, { close = { "analyst" } } guards `!name close` and leaves the rest open
---@field run fun(msg: Message, args: { text: string, [integer]: string }) args are the words after the name; args.text all of it

---Declares a chat command, in scripts/commands/NAME.lua: `return command { ... }`.
---@param definition command.definition
---@return command.definition
function command(definition) end

---@class watch.definition
---@field run fun(msg: Message, options: { verbose: boolean }) called for each message with an indicator or a file, in a watched channel or a direct message

---Declares the channel watcher, scripts/commands/watch.lua: `return watch { ... }`.
---@param definition watch.definition
---@return watch.definition
function watch(definition) end

---Actions integrations declare: block, disable, contain, page, ticket (docs/integrations.md).
---@class actions
actions = {}

---@class actions.record
---@field id string ACT-…
---@field name string
---@field params table<string, any>
---@field status "planned"|"sending"|"done"|"failed"|"undone"|"refused"|"denied"|"timed_out" the last three not run
---@field incident? string
---@field requested_by string
---@field approved_by? string
---@field idempotency_key string
---@field at string
---@field expires_at? string when its ttl lifts it
---@field ttl? number seconds: how long it lasts once sent before its undo runs by itself (a planned one's too)
---@field undone_by? string
---@field undone_at? string
---@field question? string Q-…: the chat question whose answer decided it (approved, denied, or none in time)
---@field result any what the integration returned; in `history`, the error's text of a failed one, why for one not run

---Runs an action ("checkpoint.block_ip") once its parameters pass the checks; one whose risk
---needs an approval asks in chat first (unless the playbook's `approvals` lists it).
---Returns the action when it was done (status "done"), or planned in a dry run (status
---"planned": yours, each one in `automator run`, one a test does not stub), so that a trial goes on
---as if it worked. When it was not done, nil and why: "denied by slack:bob", "nobody approved it in
---time", or "checkpoint.block_ip failed: the API's error" (recorded and journaled as failed). An
---integration that raised a table (`error({ code = "quota", retry_after = 30 })`) gives that table
---back as why, its fields to read; it prints and joins as the text the journal has:
---  local done, why = actions.run(...); if not done then inc:note("not blocked: " .. why) end
---  if type(why) == "table" and why.code == "quota" then time.sleep(why.retry_after) end
---A refused parameter is an error at the script's line, and so is an
---option it does not know (`dryrun`) or an incident where the options belong: write `{ incident = inc }`.
---`ttl = "24h"` lifts the action by itself after that long (its undo runs, durably), longer or
---shorter than a ttl the action declares; an action with no undo refuses it.
---@param name string
---@param params? table<string, string|number|boolean>
---@param options? { incident?: Incident|string, dry_run?: boolean, channel?: string, default_channel?: string, ttl?: duration }
---@return actions.record?
---@return string|table? why
function actions.run(name, params, options) end

---@class actions.plan
---@field name string
---@field risk "low"|"medium"|"high"|"critical"
---@field summary string what it would do, in words
---@field dry_run boolean
---@field approval "not needed"|"standing"|"required"
---@field ttl? number seconds after which it would lift by itself (the call's ttl, else the action's)
---@field channel? string where its approval would be asked

---What actions.run would do, without doing it: the parameters checked (a refusal is an error, as
---in actions.run, and recorded on the incident), whether it needs an approval, and where that
---would be asked.
---@param name string
---@param params? table<string, string|number|boolean>
---@param options? { incident?: Incident|string, dry_run?: boolean, channel?: string, default_channel?: string, ttl?: duration }
---@return actions.plan
function actions.plan(name, params, options) end

---Whether the action can be sent now: true, or false and why when its integration is in
---scripts/integrations but not set up (its settings missing) or not in use (its file does not
---load). Ask before acting, and give the step to people when the answer is no:
---  local can, why = actions.available("entra.disable_user")
---A name no integration declares is an error. A replay gets the answer the run got. In a test
---every declared action is available.
---@param name string
---@return boolean
---@return string? why
function actions.available(name) end

---Reverses a done action with its undo.
---@param id string
---@return actions.record
function actions.undo(id) end

---Reverses every done action of an incident, the last one first.
---@param incident Incident|string
---@return actions.record[]
function actions.revert_all(incident) end

---@return { name: string, description: string, risk: string, params: table<string, integration.param>, undo?: string, ttl?: number }[]
function actions.list() end

---The actions run, newest first.
---@param incident? Incident|string
---@return actions.record[]
function actions.history(incident) end

