import CDigest
import Foundation

/// A run's source as both stores keep it: once per distinct text, in `script_source` by its
/// SHA-256, each run naming it by that digest (`run.source_digest`; runs stored before schema v17
/// keep theirs inline in `run.source`).
///
/// Every message the chat bot checks is a run of the watcher, with its 1.7 KB source: stored in
/// each run's row, it was most of what the row's two writes (its creation, its end) wrote, twice
/// a message. A source is kept as long as a run names it: what ran stays readable however old the
/// run, there is one row per version of a script, not per run, and the retention that deletes
/// runs deletes the sources none of the others names (`unnamed`).
enum ScriptSource {
    /// The key of `source` in `script_source`.
    static func digest(of source: [UInt8]) -> Data {
        var digest = Data(count: 32)
        source.withUnsafeBytes { bytes in
            digest.withUnsafeMutableBytes { cdigest_sha256(bytes.baseAddress, bytes.count, $0.bindMemory(to: UInt8.self).baseAddress) }
        }
        return digest
    }

    /// Deletes the sources no run names, in one pass over `run` (a `NOT EXISTS` per source would
    /// read it once for each): after runs are deleted.
    static let deleteUnnamed = """
        DELETE FROM script_source WHERE digest NOT IN (SELECT source_digest FROM run WHERE source_digest IS NOT NULL)
        """

    /// The source of the run of the `run` row the query reads, whichever way it is kept.
    static let column = "coalesce((SELECT source FROM script_source WHERE digest = run.source_digest), run.source)"
}
