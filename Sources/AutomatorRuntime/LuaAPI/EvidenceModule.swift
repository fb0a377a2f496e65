import Foundation

/// `evidence`, and `inc:evidence{ ... }`: files kept on an incident from a playbook.
///
/// ```lua
/// local kept = inc:evidence{ name = "headers.txt", data = headers, description = "as reported", tags = { "email" } }
/// log.info(kept.id .. " " .. kept.sha256)
/// local again = evidence.get(kept.id)       -- { id, incident, name, size, sha256, sha1, md5, custody = {...} }
/// ```
///
/// `data` is kept as given; `path` names a file in DATA/evidence/inbox (scripts reach no other
/// file). The content is hashed and copied off the run's thread; the record is committed with
/// the call's record, so a resumed run never adds the same evidence twice.
public struct EvidenceModule: HostModule {
    public let name = "evidence"
    private let service: EvidenceService

    public init(service: EvidenceService) { self.service = service }

    public func register(in table: inout ModuleTable) {
        let service = self.service
        let state = table.state
        let actor: () -> String = { [unowned(unsafe) state] in state.actor }
        LuaNearest.register(in: &table)
        // keep(data, path) -> size, md5, sha1, sha256: the content in the vault.
        table.waitingFunction("keep") { [unowned(unsafe) state] call in
            let data = call.isNoneOrNil(1) ? nil : try call.string(1).bytes
            let name = call.isNoneOrNil(2) ? nil : try call.string(2).description
            let path = try name.map { name throws(EvidenceError) in try service.inbox.file(name) }
            let run = state.activeRun?.id, movedFrom = state.activeRun?.movedFrom
            return .task {
                // Hashing and copying a file of any size: not on the executor's thread.
                let (hashes, size) = try await inSwiftsPool {
                    if let data { return try await service.vault.add(bytes: data) }
                    // Looked for when the call acts: a replay, which hands back the record, needs no file.
                    guard let path, FileManager.default.fileExists(atPath: path) else {
                        throw service.inbox.missing(name ?? "", run: run, movedFrom: movedFrom)
                    }
                    return try await service.vault.add(file: LocalPath(path))
                }
                return [.integer(size), .string(LuaString(hashes.md5)), .string(LuaString(hashes.sha1)),
                        .string(LuaString(hashes.sha256))]
            }
        }
        // record(incident, name, description, tags JSON, size, md5, sha1, sha256) -> evidence JSON
        table.waitingFunction("record") { call in
            guard let incident = IncidentID(try call.string(1).description) else {
                throw HostError.argument(1, "an incident id such as INC-42 expected")
            }
            let name = try call.string(2).description
            let description = try call.string(3).description
            let tags = (try? JSONDecoder().decode([String].self, from: Data(try call.string(4).bytes))) ?? []
            let size = try call.integer(5)
            let hashes = FileHashes(md5: try call.string(6).description, sha1: try call.string(7).description,
                                    sha256: try call.string(8).description)
            let by = actor()
            return .write(in: service.store) {
                let evidence = Evidence(incident: incident, name: name, description: description, source: "playbook",
                                        collectedBy: by, tags: tags, hashes: hashes, size: size)
                return (EvidenceService.recording(evidence), [.string(LuaString(EvidenceJSON.forScript(evidence, custody: [])))])
            }
        }
        table.waitingFunction("get") { call in
            let id = try call.string(1).description
            let by = actor()
            return .task {
                let (evidence, custody) = try await service.get(id, by: by)
                return [.string(LuaString(EvidenceJSON.forScript(evidence, custody: custody)))]
            }
        }
    }

    public var lua: String? {
        #"""
        local host = ...
        local json, error, type, tostring, ipairs, pairs = json, error, type, tostring, ipairs, pairs
        \#(LuaNearest.source)
        local evidence = {}
        local fields = { "data", "description", "name", "path", "tags" }
        local known = {}
        for _, field in ipairs(fields) do known[field] = true end

        -- Errors are raised at level 2, the caller's line: inc:evidence tail-calls evidence.add, so
        -- that is the playbook's line either way.

        --- Keeps `spec.data` (or the inbox file `spec.path`) as evidence on an incident.
        function evidence.add(incident_id, spec)
          if type(spec) ~= "table" then
            error('evidence expects a table, as in inc:evidence{ name = "mail.eml", data = raw }', 2)
          end
          for key in pairs(spec) do
            if not known[key] then
              local meant = type(key) == "string" and nearest(key, fields) or nil
              error(("evidence: unknown field %s%s: the fields are %s"):format(tostring(key),
                meant and (" (did you mean " .. meant .. "?)") or "", table.concat(fields, ", ")), 2)
            end
          end
          if (spec.data == nil) == (spec.path == nil) then
            error("evidence needs data (the bytes to keep) or path (a file of DATA/evidence/inbox), one of them", 2)
          end
          if spec.data ~= nil and type(spec.data) ~= "string" then error("data must be a string of bytes", 2) end
          local name = spec.name or (spec.path and tostring(spec.path):match("[^/]+$"))
          if type(name) ~= "string" or name == "" then error("evidence needs a name", 2) end
          local tags = json.array({})
          for i, tag in ipairs(spec.tags or {}) do tags[i] = tostring(tag) end
          local size, md5, sha1, sha256 = host.keep(spec.data, spec.path)
          return json.decode(host.record(incident_id, name, tostring(spec.description or ""), json.encode(tags), size, md5,
                                         sha1, sha256))
        end

        --- The evidence with its chain of custody (this look is noted in it).
        function evidence.get(id)
          return json.decode(host.get(id))
        end

        return evidence
        """#
    }
}
