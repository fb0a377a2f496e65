/// A script's source and chunk name, as a key of the caches of compiled scripts.
///
/// Hashes the source as one block of bytes: the synthesized `Hashable` of `[UInt8]` hashes byte
/// by byte, and every chat message looked its 1.7 KB watcher up twice that way (the check at
/// submission, the executor's templates).
struct ScriptKey: Hashable {
    var source: [UInt8]
    var chunkName: String

    func hash(into hasher: inout Hasher) {
        source.withUnsafeBytes { hasher.combine(bytes: $0) }
        hasher.combine(chunkName)
    }
}
