extension ChatModule {
    /// The message objects over the host functions, and the `command { ... }` and
    /// `watch { ... }` declarations. Runs once per state with the frozen base as its environment.
    public var lua: String? {
        #"""
        local host = ...
        local json, error, type, pairs, ipairs, setmetatable, tostring = json, error, type, pairs, ipairs, setmetatable, tostring

        local chat = {}
        local Message = {}
        local message_class = { __index = Message, __metatable = false }

        local function check(self, method)
          if type(self) ~= "table" or type(self.id) ~= "string" or type(self.channel) ~= "table" then
            error(("call it as msg:%s(...), with a colon"):format(method), 3)
          end
        end

        --- Answers the message: in its thread in a channel, plainly in a direct conversation.
        --- With `{ journal = true }`, an answer in an incident's war room is kept in its journal
        --- too, as the bot's line: for the verdicts the team acts on, not for every `!help`.
        function Message:reply(text, options)
          check(self, "reply")
          if options ~= nil and type(options) ~= "table" then error("msg:reply: options must be a table", 2) end
          local thread = not self.channel.direct and (self.thread or self.id) or nil
          local incident = options and options.journal and self.incident or nil
          return host.post(self.network, self.channel.id, tostring(text), thread, incident)
        end

        --- Adds a reaction (an emoji name such as "eyes", or the emoji itself on Matrix).
        function Message:react(emoji)
          check(self, "react")
          host.react(self.network, self.channel.id, self.id, tostring(emoji))
        end

        --- True the first time `key` is given for the message's channel since the bot started, false
        --- after: for a note the channel needs once rather than with every message (the watcher's
        --- word that a paused source is not checking findings there).
        function Message:once(key)
          check(self, "once")
          if type(key) ~= "string" then error("msg:once expects a key (a string)", 2) end
          return host.once(self.network, self.channel.id, key)
        end

        local function file_of(file, method)
          if type(file) ~= "table" or type(file.url) ~= "string" then error(("msg:%s expects one of msg.files"):format(method), 3) end
          return json.encode(file)
        end

        --- The bytes of one of the message's files (`msg.files[1]`). A durable run records them:
        --- to check a file, `msg:check(file)` keeps the bytes out of the run.
        function Message:download(file)
          check(self, "download")
          return host.download(self.network, file_of(file, "download"))
        end

        --- The file's `md5`, `sha1` and `sha256`, and the verdict on them (as `intel.file`).
        function Message:check(file)
          check(self, "check")
          return host.check(self.network, file_of(file, "check"))
        end

        --- Keeps one of the message's files (or, with no file, the message's own text) as evidence
        --- on an incident; returns the evidence (`id`, `sha256`...).
        function Message:keep(file, incident_id, description)
          check(self, "keep")
          local function safe(part) return (tostring(part):gsub("^@", ""):gsub("[^%w%.%-]", "_")) end
          local name = ("message-%s-%s.txt"):format(safe(self.user.handle), safe(self.id))
          local text = ("%s wrote in #%s at %s:\n%s\n"):format(self.user.who, self.channel.name,
                                                              os.date("!%Y-%m-%d %H:%M:%SZ", math.floor(self.at)), self.text)
          return json.decode(host.keep(self.network, file and file_of(file, "keep"), text, name, incident_id,
                                       tostring(description or "")))
        end

        local function options_of(options, name)
          if options ~= nil and type(options) ~= "table" then error(name .. ": options must be a table", 3) end
          return options or {}
        end

        --- Posts `text` in a channel ("#soc", a channel id); `options.thread` answers a message,
        --- `options.network` picks the network (the first configured otherwise).
        function chat.post(channel, text, options)
          options = options_of(options, "chat.post")
          return host.post(options.network, channel, tostring(text), options.thread)
        end

        --- Uploads `data` as a file named `name`.
        function chat.upload(channel, name, data, options)
          options = options_of(options, "chat.upload")
          host.upload(options.network, channel, name, data, options.comment)
        end

        local function ask(channel, question, choices, options)
          local list = json.array({})
          for i, choice in ipairs(choices) do list[i] = tostring(choice) end
          local roles = options.roles and json.encode(json.array(options.roles)) or nil
          if options.timeout ~= nil and (type(options.timeout) ~= "number" or options.timeout <= 0) then
            error("options.timeout must be a number of seconds above 0", 3)
          end
          local incident = options.incident
          if type(incident) == "table" then incident = incident.id end
          if incident ~= nil and type(incident) ~= "string" then
            error('options.incident must be an incident (inc) or an id such as "INC-42"', 3)
          end
          if incident ~= nil then host.about(incident) end
          if options.note ~= nil then host.note(tostring(options.note)) end
          -- `approval` is read by no one now (the approve/deny rule decides), but runs recorded
          -- before passed it, and a replay compares a call's arguments.
          local id = host.ask(options.network, channel, tostring(question), json.encode(list), roles, approval)
          local answer, by = host.answer(id, options.timeout)
          return answer, by, id
        end

        --- Asks a question and suspends the run until a person with one of `options.roles` (anyone
        --- without) answers; returns the choice, who made it and the question's id ("Q-…"). With
        --- `options.timeout` (seconds), a question nobody answered by then returns "timeout",
        --- "automator", and takes no answer after. `options.incident` (inc, or "INC-42") names the
        --- incident it is for when the run has none (a chat command's); a playbook's is its run's.
        --- `options.note` is a line posted under the question (how long what it approves lasts):
        --- not part of what a replay compares, it may change without a run recorded before diverging.
        --- Its journal tells the question and its answer.
        function chat.ask(channel, question, choices, options)
          if type(choices) ~= "table" or #choices == 0 then
            error('chat.ask expects a list of choices, as in chat.ask("#soc", "Block it?", { "yes", "no" })', 2)
          end
          return ask(channel, question, choices, options_of(options, "chat.ask"), false)
        end

        --- Asks for an approval; returns true if approved, who decided ("automator" when nobody
        --- answered within `options.timeout` seconds) and the question's id. Only the people
        --- `chat.roles.approver` names may answer (`options.roles` names other roles instead); while
        --- no one holds the role, no one in chat may, and an operator answers with `automator
        --- question answer`.
        function chat.approve(channel, question, options)
          local answer, by, id = ask(channel, question, { "approve", "deny" }, options_of(options, "chat.approve"))
          return answer == "approve", by, id
        end

        --- The channels the bot was told about: `id`, `name`, `watched`, `verbose`, `incident`.
        function chat.channels(network) return json.decode(host.channels(network)) end
        --- The channels the bot could join.
        function chat.available(network) return json.decode(host.available(network)) end
        --- The channel a name, id or Matrix alias names, as chat.join finds it: `id` and `name`.
        --- One the bot cannot see, or a name several channels share, is an error.
        function chat.channel(network, channel) return json.decode(host.channel(network, channel)) end
        --- Joins a channel (by name or id) and checks what is posted there; returns its settings.
        --- A name several channels share, or a channel where the bot may not post, is an error.
        function chat.join(network, channel) return json.decode(host.join(network, channel)) end
        function chat.leave(network, channel) return json.decode(host.leave(network, channel)) end
        --- Posts every result in the channel (`on`), or only the malicious ones.
        function chat.verbose(network, channel, on) return json.decode(host.verbose(network, channel, on and true or false)) end
        --- Makes the channel the war room of an incident: its messages are journaled there.
        --- (`chat.leave` ends a war room.)
        function chat.warroom(network, channel, incident_id) return json.decode(host.warroom(network, channel, incident_id)) end
        --- The commands: `name`, `usage`, `help`, `roles` (a list), `roles_by_word` (`close` → a list).
        function chat.commands() return json.decode(host.commands()) end

        \#(LuaDeclarations.source)

        function command(definition)
          declare("command", definition, {
            name = { "string", required = true }, run = { "function", required = true }, usage = { "string" },
            help = { "string" }, roles = { "table" },
          }, 'command { name = "ip", run = function(msg, args) ... end }')
          if not definition.name:match("^[%w_%-]+$") then
            error(("command: the name %q must be one word of letters, digits, - and _"):format(definition.name), 2)
          end
          for key, value in pairs(definition.roles or {}) do
            local roles = math.type(key) == "integer" and { value } or type(key) == "string" and value
            local ok = type(roles) == "table" and #roles > 0
            for _, role in pairs(ok and roles or {}) do ok = ok and type(role) == "string" end
            if not ok then
              error("command: roles lists the roles that may run the command, and by a first word those that may "
                    .. 'run it: roles = { "responder" }, or roles = { close = { "analyst" } }', 2)
            end
          end
          return definition
        end

        function watch(definition)
          return declare("watch", definition, { run = { "function", required = true } },
                         "watch { run = function(msg, options) ... end }")
        end

        local function words(text)
          local list = { text = text }
          for word in text:gmatch("%S+") do list[#list + 1] = word end
          return list
        end

        --- A chat run: the script returns a command, called with the message and its words (and
        --- `args.text`, everything after the command's name), or the watcher, called with the
        --- message and `{ verbose = ... }`.
        local function run_chat(chunk, script, message, extra)
          local definition = chunk()
          local kind = declared[definition]
          setmetatable(message, message_class)
          if message.replied then setmetatable(message.replied, message_class) end
          if kind == "command" then return definition.run(message, words(extra or "")) end
          if kind == "watch" then return definition.run(message, extra or {}) end
          error(("%s must return command { ... } or watch { ... }"):format(script), 0)
        end

        return chat, { run_chat = run_chat, declared = function(value) return declared[value] end }
        """#
    }
}
