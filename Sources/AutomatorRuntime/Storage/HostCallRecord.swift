public import Foundation

/// The recorded outcome of one host call of a run, which a replay hands back instead of acting
/// again.
///
/// A replay compares `name` and `argumentsDigest` with the call the script makes at the same
/// `sequence`; a difference means the script no longer does what it did, and the run diverges.
public struct HostCallRecord: Sendable, Hashable {
    public var runID: RunID
    /// 1-based, per run, in the order the script made its calls.
    public var sequence: Int
    /// The host function, as scripts name it (`time.now`, `intel.reputation`).
    public var name: String
    /// SHA-256, in hexadecimal, of the canonical encoding of the call's arguments (the caller
    /// computes it; the store only keeps and returns it).
    public var argumentsDigest: String
    /// The recorded values, or the recorded error, in the caller's encoding.
    public var result: [UInt8]
    /// Kept to the millisecond.
    public var recordedAt: Date

    public init(runID: RunID, sequence: Int, name: String, argumentsDigest: String, result: some Collection<UInt8>,
                recordedAt: Date = Date())
    {
        self.runID = runID
        self.sequence = sequence
        self.name = name
        self.argumentsDigest = argumentsDigest
        self.result = Array(result)
        self.recordedAt = recordedAt.roundedToMilliseconds
    }
}
