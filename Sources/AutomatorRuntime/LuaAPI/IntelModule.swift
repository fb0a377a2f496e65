import Foundation

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
///   `reason` each; `paused_since` and `paused_until`, in seconds since the epoch, for an
///   integration that rests after its service failed: not asked, or failing now and resting
///   from this lookup on). Suspends the run while the sources are asked; recorded in a durable run.
/// - `intel.reputations(indicators)`: the verdicts on a list of indicators (strings, or tables
///   such as `intel.extract` gives), in its order, all asked at once: a slow or unreachable
///   source is waited for once, not once per indicator.
/// - `intel.file(bytes)`: the file's `md5`, `sha1` and `sha256`, and the verdict on them.
/// - `intel.defang(text)`: `text` with its URLs, domains, IPv4 and e-mail addresses defanged, for
///   what a script writes into chat (the runtime's own approval questions included).
/// - `intel.unicode(value)`: a name or URL with A-labels as people read it, defanged, and the
///   look-alike scripts it mixes (`аррӏе[.]com`, `Cyrillic and Latin`).
public struct IntelModule: HostModule {
    public let name = "intel"
    private let reputation: ReputationService?

    /// - Parameter reputation: where verdicts come from; without it, `extract` works and
    ///   `reputation` says that no intel is configured.
    public init(reputation: ReputationService?) { self.reputation = reputation }

    public func register(in table: inout ModuleTable) {
        table.function("extract") { call in
            let indicators = Extractor.extract(try call.string(1).bytes)
            // Looked up next, each several times: `NormalForms` answers those without a scan.
            NormalForms.remember(indicators)
            let found = indicators.map { indicator -> LuaValue in
                .table(LuaTable(fields: [
                    "type": .string(LuaString(indicator.type.rawValue)), "value": .string(LuaString(indicator.value)),
                    "first": .integer(Int64(indicator.start + 1)), "last": .integer(Int64(indicator.end)),
                ]))
            }
            return try call.push(.table(LuaTable(array: found)))
        }
        table.function("defang") { call in call.push(Defanging.text(try call.string(1).description)) }
        // unicode(value) -> its Unicode form, defanged, and the look-alike scripts it mixes ("Cyrillic and Latin")
        table.function("unicode") { call in
            guard let shown = Punycode.uLabels(of: try call.string(1).description) else { return try call.push(.nil) }
            let mixed = LookAlikeScripts.mixed(in: shown)
            call.push(Defanging.indicator(shown))
            return mixed.isEmpty ? 1 : call.push(mixed.joined(separator: " and ")) + 1
        }
        let service = reputation
        table.waitingFunction("reputation") { call in
            let type = call.isNoneOrNil(2) ? nil : try call.string(2).description
            let indicator = try Self.indicator(try call.string(1).description, type: type, at: (1, 2))
            guard let service else { throw HostError(Self.unconfigured) }
            // A lookup: a verdict changes nothing outside (the cache is ours, and kept as it was).
            return .lookup { [Self.table(await service.reputation(of: indicator.type, indicator.value))] }
        }
        table.waitingFunction("reputations") { call in
            guard case .table(let list) = try call.value(1) else { throw call.expected("table", at: 1) }
            let indicators = try list.array.enumerated().map { index, element throws(HostError) in
                switch element {
                case .string(let text): return try Self.indicator(text.description, type: nil, at: (1, 1))
                case .table(let found):
                    guard case .string(let value) = found[LuaValue("value")] else {
                        throw HostError.argument(1, "item \(index + 1) has no value: give strings, or tables such as "
                            + "intel.extract gives ({ type = \"ipv4\", value = \"203.0.113.7\" })")
                    }
                    let type: String? = if case .string(let name) = found[LuaValue("type")] { name.description } else { nil }
                    return try Self.indicator(value.description, type: type, at: (1, 1))
                default:
                    throw HostError.argument(1, "item \(index + 1) is a \(element.typeName): give strings or tables")
                }
            }
            guard let service else { throw HostError(Self.unconfigured) }
            return .lookup {
                [.table(LuaTable(array: await service.reputations(of: indicators).map(Self.table)))]
            }
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

    /// The indicator `text` names, in normal form: of `type` when given, else the one the text is.
    /// - Parameter positions: the arguments that gave the text and the type, for errors.
    private static func indicator(_ text: String, type name: String?, at positions: (text: Int32, type: Int32))
        throws(HostError) -> (type: IndicatorType, value: String)
    {
        guard let name else {
            guard let found = NormalForms.indicator(text) else {
                throw HostError.argument(positions.text,
                                         "'\(text)' is not an IP, domain, URL, e-mail address, hash or CVE")
            }
            return found
        }
        guard let type = IndicatorType(rawValue: name) else {
            throw HostError.argument(positions.type, "unknown type '\(name)': use "
                + IndicatorType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return (type, NormalForms.indicator(text)?.value ?? text)
    }

    static let unconfigured = "no reputation source is configured: give automator --config with a file that "
        + "lists feeds or sets integrations (scripts/examples/automator.yml shows both)"

    /// A verdict as scripts see it.
    static func table(_ verdict: Verdict) -> LuaValue {
        let sources = verdict.sources.map { source -> LuaValue in
            var fields: [LuaValue: LuaValue] = [
                "source": .string(LuaString(source.source)), "verdict": .string(LuaString(source.score.name)),
                "reliability": .string(LuaString(source.reliability.rawValue)),
                "reason": .string(LuaString(source.reason)),
            ]
            if let pause = source.pause {
                fields["paused_since"] = .number(pause.since.timeIntervalSince1970)
                fields["paused_until"] = .number(pause.until.timeIntervalSince1970)
            }
            return .table(LuaTable(fields: fields))
        }
        return .table(LuaTable(fields: [
            "verdict": .string(LuaString(verdict.score.name)), "score": .integer(Int64(verdict.score.rawValue)),
            "summary": .string(LuaString(verdict.summary)), "sources": .table(LuaTable(array: sources)),
        ]))
    }
}
