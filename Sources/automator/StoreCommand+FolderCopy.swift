import AutomatorRuntime
import Foundation
import Logging

extension StoreCommand.Copy {
    /// `--store URL --to-folder NEW`: the database into a new data folder, a snapshot marked as
    /// its backup.
    func copyToFolder(_ folder: String) async throws {
        let location = try store.location
        let copied = try await CommandLogging.exitingOnFailure {
            let progress = CopyProgressLines()
            return try await PostgresStore.copy(from: location, toFolder: folder, keyFrom: keyFrom,
                                                logger: Logger(label: "automator.store")) {
                table, done, total in progress.update(table, done, of: total)
            }
        }
        if let leftover = copied.leftoverRemoved {
            CommandLogging.note("\(leftover) was left by a copy stopped before its end: removed, and copied anew")
        }
        print("copied \(location) into \(folder), as one snapshot:")
        Self.printCopied(copied.tables, evidenceFiles: copied.evidenceFiles, bytes: copied.evidenceBytes,
                         journal: copied.journalAfter, source: "the database")
        for signer in copied.signers {
            print("checkpoints signed by the key \(signer.publicKey.base64EncodedString()): "
                + "\(signer.checkpoints), the last at entry \(signer.through)")
        }
        if let keyFrom {
            print("signing key: \(JournalSignature.path(in: keyFrom))'s, copied into \(folder)")
        } else if let last = copied.signers.last {
            print("signing key: none in \(folder), so journal verify checks each checkpoint against the key it names; "
                + "against the key you kept: automator journal verify --data \(folder) --public-key "
                + last.publicKey.base64EncodedString())
        }
        if copied.killsAsked > 0 {
            CommandLogging.note("\(copied.killsAsked.counted("unfinished run")) had a kill asked that no worker carried "
                + "out yet: a server on \(folder) resumes them; kill them there (automator runs kill)")
        }
        print("\(folder) is a snapshot of the database, marked as its backup: journal verify, incident list, report and "
            + "audit read it; automator serve refuses it")
        print("to serve on it in place of the workers: stop every worker for good, copy after that, then automator store "
            + "restore --data \(folder)"
            + (copied.unfinishedRuns > 0 ? " (its serve resumes \(copied.unfinishedRuns.counted("unfinished run")))" : ""))
    }
}
