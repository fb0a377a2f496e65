import Foundation
public import Logging

/// Signs a checkpoint of the journal now and then (`automator serve`: every hour, and at stop),
/// when the data folder has a signing key: checkpoints are optional, and the key's presence is
/// the switch (`automator journal checkpoint` makes it).
public struct JournalCheckpointer: Sendable {
    let store: any JournalStore
    let folder: String
    let logger: Logger

    public init(store: any JournalStore, folder: String, logger: Logger) {
        self.store = store
        self.folder = folder
        self.logger = logger
    }

    /// Signs the chain's head unless the last checkpoint covers it already.
    public func checkpoint() async {
        do throws(StoreError) {
            guard let signature = try JournalSignature.load(from: folder), let head = try await store.journalHead(),
                  try await store.journalCheckpoints().last?.sequence != head.sequence
            else { return }
            let checkpoint: JournalCheckpoint
            do { checkpoint = try signature.checkpoint(sequence: head.sequence, chain: head.chain) } catch {
                logger.error("the journal checkpoint could not be signed: \(error)")
                return
            }
            try await store.write(.addCheckpoint(checkpoint))
            logger.info("journal checkpoint signed at entry \(head.sequence)")
        } catch {
            logger.error("the journal checkpoint failed: \(error)")
        }
    }

    /// Says once, at the start, when no checkpoint will be signed, and what makes the key: without
    /// it the hourly checkpoints are skipped in silence, and nobody learns it until a journal must
    /// be proved untouched. Each checkpoint reads the key again, so one made later is used at once.
    public func announce() async {
        let path = JournalSignature.path(in: folder)
        do throws(StoreError) {
            guard try JournalSignature.load(from: folder) == nil else { return }
            let signed = try await store.journalCheckpoints().count
            guard signed == 0 else {
                let lost = "\(path) is missing, but the journal holds \(signed.counted("checkpoint")) "
                    + "signed with it. Restore it from this folder's backup, or start a new key on purpose: "
                    + "automator journal checkpoint --new-key --data \(folder)"
                logger.error("journal checkpoints are off: \(lost)")
                return
            }
            let none = "this data folder has no signing key (\(path)), so none is signed every hour. automator "
                + "journal checkpoint --data \(folder) makes the key and signs the first; this server signs the next "
                + "ones without a restart"
            logger.warning("journal checkpoints are off: \(none)")
        } catch {
            logger.error("journal checkpoints are off: \(error)")
        }
    }

    /// Checkpoints every `interval` until cancelled.
    public func run(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            await checkpoint()
        }
    }
}
