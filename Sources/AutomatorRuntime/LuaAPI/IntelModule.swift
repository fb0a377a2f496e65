/// `intel`: indicators in text, and what the feeds and integrations say of them.
///
/// ```lua
/// for _, found in ipairs(intel.extract(message)) do       -- { type, value, first, last }
///   local verdict = intel.reputation(found.value, found.type)
///   if verdict.verdict == "malicious" then inc:note(found.value .. ": " .. verdict.summary) end
/// end
/// local file = intel.file(attachment_bytes)               -- { md5, sha1, sha256, verdict, ... }
/// ```
///
/// - `intel.extract(text)`: the indicators in `text`, in order, each once: `type` (ipv4, ipv6,
///   domain, url, email, md5, sha1, sha256, sha512, cve), `value` in normal form (refanged,
///   lower case...), and `first`/`last`, its byte positions as `string.sub` takes them.
/// - `intel.reputation(value [, type])`: the verdict on an indicator (its type found from the
///   value when not given): `verdict` (unknown, benign, suspicious, malicious), `score` (0 to
///   3), `summary` (the reasons, for people) and `sources` (`source`, `verdict`, `reliability`,
///   `reason` each). Suspends the run while the sources are asked; recorded in a durable run.
/// - `intel.file(bytes)`: the file's `md5`, `sha1` and `sha256`, and the verdict on them.
/// - `intel.defang(text)`: `text` with its URLs, domains, IPv4 and e-mail addresses defanged, for
///   what a script writes into chat (the runtime's own approval questions included).
public struct IntelModule: HostModule {
    public let name = "intel"
    private let reputation: ReputationService?

    /// - Parameter reputation: where verdicts come from; without it, `extract` works and
    ///   `reputation` says that no intel is configured.
    public init(reputation: ReputationService?) { self.reputation = reputation }

    public func register(in table: inout ModuleTable) {
        table.function("extract") { call in
            let text = try call.string(1).bytes
            let found = Extractor.extract(text).map { indicator -> LuaValue in
                .table(LuaTable(fields: [
                    "type": .string(LuaString(indicator.type.rawValue)), "value": .string(LuaString(indicator.value)),
                    "first": .integer(Int64(indicator.start + 1)), "last": .integer(Int64(indicator.end)),
                ]))
            }
            return try call.push(.table(LuaTable(array: found)))
        }
        let service = reputation
        table.waitingFunction("reputation") { call in
            let text = try call.string(1).description
            let indicator: (type: IndicatorType, value: String)
            if call.isNoneOrNil(2) {
                guard let found = ReputationService.indicator(text) else {
                    throw HostError.argument(1, "'\(text)' is not an IP, domain, URL, e-mail address, hash or CVE")
                }
                indicator = found
            } else {
                let name = try call.string(2).description
                guard let type = IndicatorType(rawValue: name) else {
                    throw HostError.argument(2, "unknown type '\(name)': use "
                        + IndicatorType.allCases.map(\.rawValue).joined(separator: ", "))
                }
                indicator = (type, ReputationService.indicator(text)?.value ?? text)
            }
            guard let service else { throw HostError(Self.unconfigured) }
            // A lookup: a verdict changes nothing outside (the cache is ours, and kept as it was).
            return .lookup { [Self.table(await service.reputation(of: indicator.type, indicator.value))] }
        }
        table.waitingFunction("file") { call in
            let bytes = try call.string(1).bytes
            guard let service else { throw HostError(Self.unconfigured) }
            return .task {
                let (hashes, verdict) = await service.reputation(ofFile: bytes)
                guard case .table(var result) = Self.table(verdict) else { return [] }
                result.fields["md5"] = .string(LuaString(hashes.md5))
                result.fields["sha1"] = .string(LuaString(hashes.sha1))
                result.fields["sha256"] = .string(LuaString(hashes.sha256))
                return [.table(result)]
            }
        }
    }

    /// `intel.defang` over `intel.extract`: what chat clients would make a link, written so that
    /// none does, and read back as the same indicators when pasted (the extractor reads
    /// `hxxp://` and `[.]`).
    public var lua: String? {
        #"""
        local intel = ...
        local error, type, concat = error, type, table.concat

        -- The kinds that chat clients turn into links; hashes, CVEs and IPv6 addresses stay as written.
        local LINKED = { url = true, domain = true, ipv4 = true, email = true }

        -- One indicator: hxxp://evil-login[.]com/reset, evil-login[.]com, 203.0.113[.]45,
        -- alice@evil-login[.]com (the scheme, and the last dot of the host).
        local function indicator(value)
          local scheme, rest = value:match("^(%a[%w+.-]*://)(.*)$")
          local host, path = (rest or value):match("^([^/?#]*)(.*)$")
          host = host:gsub("%.([^.]*)$", "[.]%1")
          if scheme then scheme = scheme:gsub("^http", "hxxp"):gsub("^ftp", "fxp") end
          return (scheme or "") .. host .. path
        end

        --- `text` with each URL, domain, IPv4 and e-mail address in it defanged, the rest as written:
        --- "Phish from http://evil.example/login" gives "Phish from hxxp://evil[.]example/login".
        function intel.defang(text)
          if type(text) ~= "string" then error("intel.defang expects text", 2) end
          local parts, rest = {}, text
          while true do
            -- extract gives each indicator once: the first is where the next one starts, and the
            -- text after it is read again for the others, a repeated one included.
            local found = intel.extract(rest)[1]
            if found == nil then break end
            parts[#parts + 1] = rest:sub(1, found.first - 1)
            parts[#parts + 1] = LINKED[found.type] and indicator(found.value) or rest:sub(found.first, found.last)
            rest = rest:sub(found.last + 1)
          end
          parts[#parts + 1] = rest
          return concat(parts)
        end

        return intel
        """#
    }

    static let unconfigured = "no reputation source is configured: give automator --config with a file that "
        + "lists feeds or sets integrations (scripts/examples/automator.yml shows both)"

    /// A verdict as scripts see it.
    static func table(_ verdict: Verdict) -> LuaValue {
        let sources = verdict.sources.map { source -> LuaValue in
            .table(LuaTable(fields: [
                "source": .string(LuaString(source.source)), "verdict": .string(LuaString(source.score.name)),
                "reliability": .string(LuaString(source.reliability.rawValue)),
                "reason": .string(LuaString(source.reason)),
            ]))
        }
        return .table(LuaTable(fields: [
            "verdict": .string(LuaString(verdict.score.name)), "score": .integer(Int64(verdict.score.rawValue)),
            "summary": .string(LuaString(verdict.summary)), "sources": .table(LuaTable(array: sources)),
        ]))
    }
}
