import Foundation
import GRDB

/// The schema, as versioned migrations: a migration that has shipped is never changed; a new
/// schema is a new migration appended to the list.
extension SQLiteStore {
    /// `PRAGMA application_id` of an Automator database ("AUTO"), so that a SQLite file left by
    /// another program is recognised rather than filled with our tables.
    static let applicationID: Int32 = 0x4155_544F

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        // Host calls arrive interleaved from the runs in flight. They are appended in arrival
        // order (a rowid table), and found by run through the small (run_key, sequence) index,
        // so a batch writes the table's last pages and a few index pages. Keyed by the run's
        // text id and clustered by run instead (WITHOUT ROWID), each batch rewrote every page of
        // the runs in flight: 2.5x the CPU per write (StoreBenchmarks).
        // Runs are listed by id (time-ordered): newest first overall through its unique index,
        // by status through `run_by_status`; housekeeping finds finished runs by
        // `run_by_finished_at`, and deleting a run deletes its host calls (foreign key).
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                PRAGMA application_id = \(applicationID);
                CREATE TABLE run (
                    key INTEGER PRIMARY KEY,       -- internal: what host_call refers to
                    id TEXT NOT NULL UNIQUE,
                    script TEXT NOT NULL,
                    source BLOB NOT NULL,
                    arguments TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created_at INTEGER NOT NULL,   -- milliseconds since 1970, UTC
                    updated_at INTEGER NOT NULL,
                    finished_at INTEGER,           -- set while the status is a finished one
                    result TEXT,                   -- JSON
                    error TEXT
                );
                CREATE INDEX run_by_status ON run (status, id);
                CREATE INDEX run_by_finished_at ON run (finished_at) WHERE finished_at IS NOT NULL;
                CREATE TABLE host_call (
                    run_key INTEGER NOT NULL REFERENCES run (key) ON DELETE CASCADE,
                    sequence INTEGER NOT NULL CHECK (sequence >= 1),
                    name TEXT NOT NULL,
                    arguments_digest TEXT NOT NULL,  -- SHA-256, hexadecimal
                    result BLOB NOT NULL,
                    recorded_at INTEGER NOT NULL,
                    PRIMARY KEY (run_key, sequence)
                );
                """)
        }
        // Incidents are numbered by the host (INC-42), so a playbook's write and the record of
        // the call that made it can commit together, with the number already known. Their
        // custom fields and payload are JSON text (changed with json_patch). Open incidents are
        // found by source reference (deduplication) and by SLA deadline (the SLA timers);
        // open tasks by owner and due time. The journal is append-only, read by incident.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN entry TEXT;        -- a playbook's function, for its runs
                ALTER TABLE run ADD COLUMN incident INTEGER;  -- the incident a playbook's run works on
                CREATE TABLE incident (
                    number INTEGER PRIMARY KEY,
                    title TEXT NOT NULL,
                    type TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    status TEXT NOT NULL,
                    owner TEXT,
                    labels TEXT NOT NULL,                     -- JSON array of strings
                    fields TEXT NOT NULL,                     -- JSON object
                    details TEXT NOT NULL,
                    raw TEXT,                                 -- JSON
                    source TEXT,
                    source_ref TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    closed_at INTEGER,
                    close_reason TEXT,
                    playbook TEXT,
                    run_id TEXT,
                    sla_due_at INTEGER,
                    sla_breached_at INTEGER,
                    alert_count INTEGER NOT NULL
                );
                CREATE INDEX incident_by_source_ref ON incident (source, source_ref) WHERE source_ref IS NOT NULL;
                CREATE INDEX incident_by_status ON incident (status, number);
                CREATE INDEX incident_awaiting_sla ON incident (sla_due_at)
                    WHERE sla_due_at IS NOT NULL AND sla_breached_at IS NULL AND closed_at IS NULL;
                CREATE TABLE incident_link (
                    low INTEGER NOT NULL REFERENCES incident (number),
                    high INTEGER NOT NULL REFERENCES incident (number),
                    PRIMARY KEY (low, high)
                ) WITHOUT ROWID;
                CREATE INDEX incident_link_by_high ON incident_link (high);
                CREATE TABLE task (
                    number INTEGER PRIMARY KEY,
                    incident INTEGER NOT NULL REFERENCES incident (number),
                    run_id TEXT,
                    title TEXT NOT NULL,
                    owner TEXT,
                    description TEXT NOT NULL,
                    choices TEXT NOT NULL,                    -- JSON array of strings
                    due_at INTEGER,
                    status TEXT NOT NULL,
                    answer TEXT,
                    completed_by TEXT,
                    created_at INTEGER NOT NULL,
                    completed_at INTEGER
                );
                CREATE INDEX task_by_incident ON task (incident);
                CREATE INDEX task_open_by_due ON task (due_at) WHERE status = 'open';
                CREATE TABLE journal (
                    sequence INTEGER PRIMARY KEY,
                    incident INTEGER NOT NULL REFERENCES incident (number),
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    text TEXT NOT NULL
                );
                CREATE INDEX journal_by_incident ON journal (incident, sequence);
                """)
        }
        // The integrations' answers, by indicator and source, until they expire; and every
        // indicator looked up, with its last verdict, for the STIX export.
        migrator.registerMigration("v3") { db in
            try db.execute(sql: """
                CREATE TABLE intel_seen (
                    type TEXT NOT NULL,
                    value TEXT NOT NULL,
                    score INTEGER NOT NULL,
                    summary TEXT NOT NULL,
                    first_seen INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL,
                    stix_id TEXT NOT NULL,            -- a UUIDv4 given at the first sighting
                    PRIMARY KEY (type, value)
                ) WITHOUT ROWID;
                CREATE TABLE intel_cache (
                    type TEXT NOT NULL,
                    value TEXT NOT NULL,
                    source TEXT NOT NULL,
                    score INTEGER NOT NULL,
                    reliability TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    expires_at INTEGER NOT NULL,
                    PRIMARY KEY (type, value, source)
                ) WITHOUT ROWID;
                """)
        }
        // The chat bot: its settings per channel, its adapters' state, and the questions runs
        // wait on (`chat.ask`), with their answers.
        migrator.registerMigration("v4") { db in
            try db.execute(sql: """
                CREATE TABLE chat_channel (
                    network TEXT NOT NULL,
                    id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    watched INTEGER NOT NULL,
                    verbose INTEGER NOT NULL,
                    incident INTEGER,                 -- the incident whose war room it is
                    changed_by TEXT NOT NULL,
                    changed_at INTEGER NOT NULL,
                    PRIMARY KEY (network, id)
                ) WITHOUT ROWID;
                CREATE TABLE chat_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                CREATE TABLE chat_question (
                    id TEXT PRIMARY KEY,
                    run_id TEXT,
                    network TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    message TEXT,                     -- the message that asked, once posted
                    text TEXT NOT NULL,
                    choices TEXT NOT NULL,            -- JSON array
                    roles TEXT NOT NULL,              -- JSON array; empty: anyone may answer
                    asked_at INTEGER NOT NULL,
                    answer TEXT,
                    answered_by TEXT,
                    answered_at INTEGER
                ) WITHOUT ROWID;
                CREATE INDEX chat_question_by_message ON chat_question (network, channel, message);
                """)
        }
        // The journal's hash chains (JournalChain): each entry's hash within its incident, and the
        // whole journal's chain; the entries written before are hashed now, in order. Signed
        // checkpoints fix the chain at a sequence.
        migrator.registerMigration("v5") { db in
            try db.execute(sql: """
                ALTER TABLE journal ADD COLUMN hash BLOB;
                ALTER TABLE journal ADD COLUMN chain BLOB;
                CREATE TABLE journal_checkpoint (
                    sequence INTEGER PRIMARY KEY,     -- the last entry it covers
                    chain BLOB NOT NULL,
                    at INTEGER NOT NULL,
                    public_key BLOB NOT NULL,         -- Ed25519
                    signature BLOB NOT NULL
                );
                """)
            var heads: [Int: JournalHash] = [:]
            var chain = JournalHash.origin
            let rows = try Row.fetchCursor(db, sql: "SELECT sequence, incident, at, actor, kind, text FROM journal ORDER BY sequence")
            var hashed: [(Int64, JournalHash, JournalHash)] = []
            while let row = try rows.next() {
                let entry = try storedEntry(row)
                let hash = JournalChain.hash(entry, after: heads[entry.incident] ?? .origin)
                heads[entry.incident] = hash
                chain = JournalChain.chain(Array(hash.data), after: chain)
                hashed.append((entry.sequence, hash, chain))
            }
            for (sequence, hash, chain) in hashed {
                try db.execute(sql: "UPDATE journal SET hash = ?, chain = ? WHERE sequence = ?",
                               arguments: [hash.data, chain.data, sequence])
            }
        }
        // Evidence: the record of each file kept in the vault (DATA/evidence/objects, by SHA-256),
        // and its chain of custody.
        migrator.registerMigration("v6") { db in
            try db.execute(sql: """
                CREATE TABLE evidence (
                    id TEXT PRIMARY KEY,              -- EV-0123456789ab
                    incident INTEGER NOT NULL REFERENCES incident (number),
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    source TEXT NOT NULL,
                    collected_by TEXT NOT NULL,
                    collected_at INTEGER NOT NULL,
                    tags TEXT NOT NULL,               -- JSON array
                    sha256 TEXT NOT NULL,
                    sha1 TEXT NOT NULL,
                    md5 TEXT NOT NULL,
                    size INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX evidence_by_incident ON evidence (incident, collected_at);
                CREATE TABLE custody (
                    evidence TEXT NOT NULL REFERENCES evidence (id),
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    detail TEXT NOT NULL
                );
                CREATE INDEX custody_by_evidence ON custody (evidence, at);
                """)
        }
        // Reports: the first act of a person on each incident (time to acknowledge), read from
        // this index alone and in incident order. Without it, SQLite sorted or probed the whole
        // journal: 2.7 s of a report over a million incidents, 0.46 s with it
        // (ReportBenchmark). Partial: only what people do, a small part of the journal.
        migrator.registerMigration("v7") { db in
            try db.execute(sql: """
                CREATE INDEX journal_person_acts ON journal (incident, at)
                WHERE kind NOT IN ('created', 'alert') AND actor NOT IN ('automator', 'script')
                  AND substr(actor, 1, 9) <> 'playbook ';
                """)
        }
        // Actions (issue 10): found by id, by incident (newest first) and, for their ttl, by the
        // time they lift themselves while done.
        migrator.registerMigration("v8") { db in
            try db.execute(sql: """
                CREATE TABLE action (
                    id TEXT PRIMARY KEY,
                    key TEXT NOT NULL,                -- the idempotency key: run id and call number
                    name TEXT NOT NULL,               -- integration.action
                    parameters TEXT NOT NULL,         -- JSON object
                    incident INTEGER,
                    requested_by TEXT NOT NULL,
                    approved_by TEXT,
                    status TEXT NOT NULL,             -- planned, sending, done, failed, undone
                    result TEXT,
                    at INTEGER NOT NULL,
                    expires_at INTEGER,
                    undone_by TEXT,
                    undone_at INTEGER
                ) WITHOUT ROWID;
                CREATE INDEX action_by_incident ON action (incident, at);
                CREATE INDEX action_by_expiry ON action (expires_at) WHERE status = 'done' AND expires_at IS NOT NULL;
                """)
        }
        // The indicators each incident mentions (IncidentIndicators), for "which incidents
        // mention this?" without a text search of every incident; those stored before are
        // extracted now.
        migrator.registerMigration("v9") { db in
            try db.execute(sql: """
                CREATE TABLE incident_indicator (
                    value TEXT NOT NULL,
                    incident INTEGER NOT NULL REFERENCES incident (number),
                    PRIMARY KEY (value, incident)
                ) WITHOUT ROWID;
                """)
            let rows = try Row.fetchCursor(db, sql: "SELECT number, title, details, fields, raw FROM incident")
            while let row = try rows.next() {
                let texts: [String] = [row[1], row[2], row[3], row[4] ?? ""]
                try index(IncidentIndicators.values(in: texts), of: IncidentID(row[0] as Int), in: db)
            }
        }
        // The requests made against the integrations' quotas, by integration, while they count:
        // shared by every process on the folder, and kept across restarts (`RateLimiter`).
        migrator.registerMigration("v10") { db in
            try db.execute(sql: """
                CREATE TABLE quota_use (key TEXT NOT NULL, at INTEGER NOT NULL);
                CREATE INDEX quota_use_by_key ON quota_use (key, at);
                """)
        }
        // A run reads as waiting while it has an open task or an unanswered question
        // (`ShownRunStatus`): every read of a run looks for them by run. Partial, so that the
        // indexes hold only what is open, a small part of the tables.
        migrator.registerMigration("v11") { db in
            try db.execute(sql: """
                CREATE INDEX task_open_by_run ON task (run_id) WHERE status = 'open';
                CREATE INDEX chat_question_unanswered_by_run ON chat_question (run_id) WHERE answer IS NULL;
                """)
        }
        // Reports: a playbook's runs by its name (the runs before keep their file's); the actions
        // of a window by time; those in force (done: a small part of the table); the approval a
        // run's action waited for, by run and time answered. The audit: actions undone and
        // questions answered in a window.
        migrator.registerMigration("v12") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN playbook TEXT;
                CREATE INDEX action_by_time ON action (at);
                CREATE INDEX action_in_force ON action (at) WHERE status = 'done';
                CREATE INDEX chat_question_by_run ON chat_question (run_id, answered_at);
                CREATE INDEX action_undone_by_time ON action (undone_at) WHERE undone_at IS NOT NULL;
                CREATE INDEX chat_question_by_answered_at ON chat_question (answered_at) WHERE answered_at IS NOT NULL;
                """)
        }
        // Personal API tokens (`PersonalTokenStore`), found by their SHA-256: the token itself is
        // never kept. One live token per name; revoked ones stay, for the audit.
        migrator.registerMigration("v13") { db in
            try db.execute(sql: """
                CREATE TABLE personal_token (
                    sha256 TEXT PRIMARY KEY,       -- of the token, hexadecimal
                    name TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    created_by TEXT NOT NULL,
                    revoked_at INTEGER
                ) WITHOUT ROWID;
                CREATE UNIQUE INDEX personal_token_live ON personal_token (name) WHERE revoked_at IS NULL;
                """)
        }
        // The question whose yes approved an action, so that the report's time to approval is its
        // wait. The actions recorded before get the run's approval answered last before them, as
        // the report guessed until then, through the index that served the guess, dropped after.
        // PostgreSQL's v14.
        migrator.registerMigration("v14") { db in
            try db.execute(sql: """
                ALTER TABLE action ADD COLUMN question TEXT;
                UPDATE action SET question = (
                    SELECT id FROM chat_question
                    WHERE run_id = substr(key, 1, instr(key, '/') - 1) AND answered_at <= action.at AND answer = 'approve'
                    ORDER BY answered_at DESC LIMIT 1)
                WHERE approved_by IS NOT NULL AND approved_by <> ? AND instr(key, '/') > 0;
                DROP INDEX chat_question_by_run;
                """, arguments: [ActionRecord.standingApproval])
        }
        // When each personal token was last used (noted at most once a minute), and the tokens made
        // for /metrics alone. PostgreSQL's v15.
        migrator.registerMigration("v15") { db in
            try db.execute(sql: """
                ALTER TABLE personal_token ADD COLUMN last_used_at INTEGER;
                ALTER TABLE personal_token ADD COLUMN metrics_only INTEGER NOT NULL DEFAULT 0;
                """)
        }
        // The texts of edited messages, with when they were checked, so that the sweep of the chat's
        // runs deletes them a week after. Those kept before in chat_state had no time, and their
        // keys cannot be split into network, channel and message (ids hold dots): they go, and the
        // next edit of such a message is compared with the message, as one a week old is.
        // PostgreSQL's v16.
        migrator.registerMigration("v16") { db in
            try db.execute(sql: """
                CREATE TABLE chat_edit (
                    network TEXT NOT NULL, channel TEXT NOT NULL, message TEXT NOT NULL, text TEXT NOT NULL,
                    at INTEGER NOT NULL, PRIMARY KEY (network, channel, message)
                ) WITHOUT ROWID;
                CREATE INDEX chat_edit_by_time ON chat_edit (at);
                DELETE FROM chat_state WHERE key LIKE 'edited.%';
                """)
        }
        // Runs' sources once per distinct text, by SHA-256 (`ScriptSource`): the chat watcher's
        // 1.7 KB was most of each of its runs' row, written twice a message. Runs stored before
        // keep theirs inline. PostgreSQL's v17.
        migrator.registerMigration("v17") { db in
            try db.execute(sql: """
                CREATE TABLE script_source (digest BLOB PRIMARY KEY, source BLOB NOT NULL) WITHOUT ROWID;
                ALTER TABLE run ADD COLUMN source_digest BLOB;
                """)
        }
        // The report's first act of a person leaves out an imported incident's `imported` entry
        // (the import is no response to it): the index's condition is the query's, word for word.
        // PostgreSQL's v18 makes the same index for its query.
        migrator.registerMigration("v18") { db in
            try db.execute(sql: """
                DROP INDEX journal_person_acts;
                CREATE INDEX journal_person_acts ON journal (incident, at)
                WHERE kind NOT IN ('created', 'alert', 'imported') AND actor NOT IN ('automator', 'script')
                  AND substr(actor, 1, 9) <> 'playbook ';
                """)
        }
        // The incident a question was asked for, so that a war room's `!action`, whose command run
        // has no incident, has its approval listed, journaled and cancelled with the incident.
        // Questions asked before keep NULL (their run's incident still counts). PostgreSQL's v19.
        migrator.registerMigration("v19") { db in
            try db.execute(sql: "ALTER TABLE chat_question ADD COLUMN incident INTEGER")
        }
        // An action's ttl as planned (the call's, else the declaration's), in milliseconds: a dry
        // run, which is never sent and so has no expiry, shows what it would have had, and so does
        // `automator action show`. Actions kept before keep NULL. PostgreSQL's v20.
        migrator.registerMigration("v20") { db in
            try db.execute(sql: "ALTER TABLE action ADD COLUMN ttl_ms INTEGER")
        }
        // Slash commands' conversations, kept where every worker reads them: held by the adapter that
        // took the command, they were lost to a restart and unknown to the other workers, and the
        // command went unanswered. Swept half an hour after, when Slack takes no more answers.
        // PostgreSQL's v21.
        migrator.registerMigration("v21") { db in
            try db.execute(sql: """
                CREATE TABLE chat_command (
                    network TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, response_url TEXT NOT NULL,
                    opened_at INTEGER NOT NULL, PRIMARY KEY (network, id)
                ) WITHOUT ROWID;
                CREATE INDEX chat_command_by_time ON chat_command (opened_at);
                """)
        }
        // The source a token made for a webhook may post alerts to, and nothing else (`--ingest-only
        // SOURCE`): the only token that may travel in a URL. NULL for the others. PostgreSQL's v22.
        migrator.registerMigration("v22") { db in
            try db.execute(sql: "ALTER TABLE personal_token ADD COLUMN ingest_only TEXT")
        }
        // Each integration's fetch: the cursor its last stored page returned, and how its runs went
        // (`automator fetch list`). Kept after the page's alerts, so a crash between the two fetches
        // the page again, whose alerts then link to their incidents. PostgreSQL's v23.
        migrator.registerMigration("v23") { db in
            try db.execute(sql: """
                CREATE TABLE fetch_cursor (
                    name TEXT PRIMARY KEY, cursor TEXT, last_success INTEGER, failing_since INTEGER,
                    failures INTEGER NOT NULL DEFAULT 0, last_error TEXT
                ) WITHOUT ROWID;
                """)
        }
        // What a closed incident turned out to be (`Incident.Resolution`): true_positive, benign,
        // false_positive, undetermined. Incidents closed before keep NULL, as those closed without
        // one. PostgreSQL's v24.
        migrator.registerMigration("v24") { db in
            try db.execute(sql: "ALTER TABLE incident ADD COLUMN resolution TEXT")
        }
        return migrator
    }

    /// Checks, reading through `readers`, that the file is ours and that no newer automator wrote
    /// its schema, and brings the schema up to date with `writer` when a migration is due. A
    /// current schema is only read: opening a store writes nothing then (a full disk).
    ///
    /// The caller holds the `SchemaLock`: GRDB reads which migrations are applied before the
    /// transaction of each, so two processes migrating at once would both create the tables.
    /// Each migration is a transaction of its own: one that fails leaves the schema at the last
    /// that did, and the next opening goes on from there.
    ///
    /// - Returns: the upgrade of an older schema; nil when it was current, or made now.
    static func migrate(reading readers: DatabasePool, path: String, writer: () throws -> DatabasePool) throws
        -> SchemaUpgrade?
    {
        let migrator = migrator
        let (unknown, due) = try readers.read { db -> ([String], [String]) in
            let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            if applicationID != Self.applicationID {
                // GRDB's table of the migrations done is made before the first one, which sets the
                // id: a creation cut short leaves it alone.
                let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE tbl_name <> 'grdb_migrations'")
                guard tables == 0 else { throw StoreError.foreignDatabase(path) }
                return ([], migrator.migrations)
            }
            let applied = try migrator.appliedIdentifiers(db)
            return (applied.subtracting(migrator.migrations).sorted(), migrator.migrations.filter { !applied.contains($0) })
        }
        guard unknown.isEmpty else { throw StoreError.newerSchema(path, unknown: unknown) }
        guard !due.isEmpty else { return nil }
        try migrator.migrate(try writer())
        return SchemaUpgrade(applied: due, of: migrator.migrations)
    }

    /// Leaves at `path` a database with the schema only up to `version` (none if nil), and runs
    /// `sql` in it: the file an older automator, or another program, would have left. For tests.
    static func makeDatabase(at path: String, version: String?, sql: String) throws {
        let pool = try DatabasePool(path: path)
        if let version { try migrator.migrate(pool, upTo: version) }
        try pool.write { try $0.execute(sql: sql) }
        try pool.close()
    }
}
