import Foundation
import PostgresNIO

/// The schema, as versioned migrations, like SQLite's: a migration that has shipped is never
/// changed; a new schema is a new migration appended to the list.
///
/// Times are milliseconds since 1970 (`bigint`), as in SQLite, so that both stores give back
/// exactly what they were given. Run ids sort byte by byte (`COLLATE "C"`): they are time-ordered,
/// and a locale's collation would not keep that order.
extension PostgresStore {
    /// Serialises migrations between workers starting together (`pg_advisory_xact_lock`).
    static let migrationLock: Int64 = 0x4155_544F_0000_0001

    /// Each migration's statements end with `;` at the end of a line: the extended protocol that
    /// postgres-nio speaks takes one statement at a time.
    static let migrations: [(version: String, sql: String)] = [
        ("v1", """
            CREATE TABLE run (
                key bigserial PRIMARY KEY,
                id text COLLATE "C" NOT NULL UNIQUE,
                script text NOT NULL,
                source bytea NOT NULL,
                arguments text NOT NULL,
                status text NOT NULL,
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL,
                finished_at bigint,
                result text,
                error text,
                entry text,
                incident bigint
            );
            CREATE INDEX run_by_status ON run (status, id);
            CREATE INDEX run_by_finished_at ON run (finished_at) WHERE finished_at IS NOT NULL;
            CREATE TABLE host_call (
                run_key bigint NOT NULL REFERENCES run (key) ON DELETE CASCADE,
                sequence integer NOT NULL CHECK (sequence >= 1),
                name text NOT NULL,
                arguments_digest text NOT NULL,
                result bytea NOT NULL,
                recorded_at bigint NOT NULL,
                PRIMARY KEY (run_key, sequence)
            );
            CREATE TABLE incident (
                number bigint PRIMARY KEY,
                title text NOT NULL,
                type text NOT NULL,
                severity text NOT NULL,
                status text NOT NULL,
                owner text,
                labels text NOT NULL,
                fields text NOT NULL,
                details text NOT NULL,
                raw text,
                source text,
                source_ref text,
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL,
                closed_at bigint,
                close_reason text,
                playbook text,
                run_id text,
                sla_due_at bigint,
                sla_breached_at bigint,
                alert_count integer NOT NULL
            );
            CREATE INDEX incident_by_source_ref ON incident (source, source_ref) WHERE source_ref IS NOT NULL;
            CREATE INDEX incident_by_status ON incident (status, number);
            CREATE INDEX incident_awaiting_sla ON incident (sla_due_at)
                WHERE sla_due_at IS NOT NULL AND sla_breached_at IS NULL AND closed_at IS NULL;
            CREATE TABLE incident_link (
                low bigint NOT NULL REFERENCES incident (number),
                high bigint NOT NULL REFERENCES incident (number),
                PRIMARY KEY (low, high)
            );
            CREATE INDEX incident_link_by_high ON incident_link (high);
            CREATE TABLE task (
                number bigint PRIMARY KEY,
                incident bigint NOT NULL REFERENCES incident (number),
                run_id text,
                title text NOT NULL,
                owner text,
                description text NOT NULL,
                choices text NOT NULL,
                due_at bigint,
                status text NOT NULL,
                answer text,
                completed_by text,
                created_at bigint NOT NULL,
                completed_at bigint
            );
            CREATE INDEX task_by_incident ON task (incident);
            CREATE INDEX task_open_by_due ON task (due_at) WHERE status = 'open';
            CREATE TABLE journal (
                sequence bigint PRIMARY KEY,
                incident bigint NOT NULL REFERENCES incident (number),
                at bigint NOT NULL,
                actor text NOT NULL,
                kind text NOT NULL,
                text text NOT NULL,
                hash bytea NOT NULL,
                chain bytea NOT NULL
            );
            CREATE INDEX journal_by_incident ON journal (incident, sequence);
            CREATE TABLE journal_checkpoint (
                sequence bigint PRIMARY KEY,
                chain bytea NOT NULL,
                at bigint NOT NULL,
                public_key bytea NOT NULL,
                signature bytea NOT NULL
            );
            -- RFC 7386 JSON merge patch, as SQLite's json_patch: custom fields are changed in the
            -- UPDATE, so two changes to different fields never undo each other.
            CREATE FUNCTION automator_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
            LANGUAGE sql IMMUTABLE AS $$
                SELECT CASE WHEN jsonb_typeof(patch) <> 'object' THEN patch ELSE (
                    SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM (
                        SELECT key, CASE WHEN p.value IS NULL THEN t.value
                                         ELSE automator_merge_patch(t.value, p.value) END AS value
                        FROM jsonb_each(CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}' END) t
                        FULL JOIN jsonb_each(patch) p USING (key)
                        WHERE p.value IS NULL OR p.value <> 'null'::jsonb
                    ) merged)
                END
            $$
            """),
        // Leases (`LeasingStore`): the worker that runs an unfinished run, until when. Claims look
        // for unfinished runs whose lease expired, through this small partial index.
        ("v2", """
            ALTER TABLE run ADD COLUMN lease_owner text;
            ALTER TABLE run ADD COLUMN lease_expires_at bigint;
            CREATE INDEX run_unfinished_by_lease ON run (lease_expires_at, id)
                WHERE status IN ('pending', 'running', 'waiting');
            """),
        // The indicators each incident mentions (`IncidentIndicators`), as in SQLite's v9; those of
        // the incidents stored before are extracted after the SQL (`indexIncidents`).
        ("v3", """
            CREATE TABLE incident_indicator (
                value text COLLATE "C" NOT NULL,
                incident bigint NOT NULL REFERENCES incident (number),
                PRIMARY KEY (value, incident)
            );
            """),
        // Actions (issue 10), as in SQLite's v8: found by id, by incident (newest first) and, for
        // their ttl, by the time they lift themselves while done.
        ("v4", """
            CREATE TABLE action (
                id text COLLATE "C" PRIMARY KEY,
                key text NOT NULL,
                name text NOT NULL,
                parameters text NOT NULL,
                incident bigint,
                requested_by text NOT NULL,
                approved_by text,
                status text NOT NULL,
                result text,
                at bigint NOT NULL,
                expires_at bigint,
                undone_by text,
                undone_at bigint
            );
            CREATE INDEX action_by_incident ON action (incident, at);
            CREATE INDEX action_by_expiry ON action (expires_at) WHERE status = 'done' AND expires_at IS NOT NULL;
            """),
        // Incident and task numbers for several workers (`takeNumber`), on from those stored.
        ("v5", """
            CREATE SEQUENCE incident_number AS bigint;
            CREATE SEQUENCE task_number AS bigint;
            SELECT setval('incident_number', coalesce(max(number), 0) + 1, false) FROM incident;
            SELECT setval('task_number', coalesce(max(number), 0) + 1, false) FROM task;
            """),
        // What `automator serve` keeps besides incidents, as SQLite's v3 and v4: the integrations'
        // cache and the indicators seen; the chat bot's channels, state and questions.
        ("v6", """
            CREATE TABLE intel_seen (
                type text NOT NULL,
                value text COLLATE "C" NOT NULL,
                score integer NOT NULL,
                summary text NOT NULL,
                first_seen bigint NOT NULL,
                last_seen bigint NOT NULL,
                stix_id text NOT NULL,
                PRIMARY KEY (type, value)
            );
            CREATE TABLE intel_cache (
                type text NOT NULL,
                value text COLLATE "C" NOT NULL,
                source text NOT NULL,
                score integer NOT NULL,
                reliability text NOT NULL,
                reason text NOT NULL,
                expires_at bigint NOT NULL,
                PRIMARY KEY (type, value, source)
            );
            CREATE TABLE chat_channel (
                network text NOT NULL,
                id text NOT NULL,
                name text NOT NULL,
                watched boolean NOT NULL,
                "verbose" boolean NOT NULL,
                incident bigint,
                changed_by text NOT NULL,
                changed_at bigint NOT NULL,
                PRIMARY KEY (network, id)
            );
            CREATE TABLE chat_state (key text PRIMARY KEY, value text NOT NULL);
            CREATE TABLE chat_question (
                id text PRIMARY KEY,
                run_id text,
                network text NOT NULL,
                channel text NOT NULL,
                message text,
                text text NOT NULL,
                choices text NOT NULL,
                roles text NOT NULL,
                asked_at bigint NOT NULL,
                answer text,
                answered_by text,
                answered_at bigint
            );
            CREATE INDEX chat_question_by_message ON chat_question (network, channel, message);
            """),
        // Evidence, as SQLite's v6 (custody in the order noted: `key`, as SQLite's rowid), and the
        // files themselves (`PostgresVault`): chunks by their SHA-256, stored as they are (evidence
        // is mostly compressed already, and trying to compress a megabyte again costs CPU for
        // nothing), and each object's list of chunks by the file's SHA-256.
        ("v7", """
            CREATE TABLE evidence (
                id text COLLATE "C" PRIMARY KEY,
                incident bigint NOT NULL REFERENCES incident (number),
                name text NOT NULL,
                description text NOT NULL,
                source text NOT NULL,
                collected_by text NOT NULL,
                collected_at bigint NOT NULL,
                tags text NOT NULL,
                sha256 text NOT NULL,
                sha1 text NOT NULL,
                md5 text NOT NULL,
                size bigint NOT NULL
            );
            CREATE INDEX evidence_by_incident ON evidence (incident, collected_at);
            CREATE TABLE custody (
                key bigserial PRIMARY KEY,
                evidence text COLLATE "C" NOT NULL REFERENCES evidence (id),
                at bigint NOT NULL,
                actor text NOT NULL,
                action text NOT NULL,
                detail text NOT NULL
            );
            CREATE INDEX custody_by_evidence ON custody (evidence, at);
            CREATE TABLE evidence_chunk (sha256 text COLLATE "C" PRIMARY KEY, data bytea NOT NULL);
            ALTER TABLE evidence_chunk ALTER COLUMN data SET STORAGE EXTERNAL;
            CREATE TABLE evidence_object (
                sha256 text COLLATE "C" PRIMARY KEY,
                size bigint NOT NULL,
                chunks text[] NOT NULL
            );
            """),
        // The requests made against the integrations' quotas, shared by the workers (`RateLimiter`).
        ("v8", """
            CREATE TABLE quota_use (key text NOT NULL, at bigint NOT NULL);
            CREATE INDEX quota_use_by_key ON quota_use (key, at);
            """),
        // A journal copied from SQLite (`automator store copy`) keeps its whole-journal chain as
        // SQLite wrote it: a link on the last entry of each transaction, none on the entries before
        // it (`JournalTip`). The workers go on writing a link on every entry, and the verifier
        // reads both.
        ("v9", """
            ALTER TABLE journal ALTER COLUMN chain DROP NOT NULL;
            """),
        // A run's open tasks and unanswered questions, looked for at every read of a run
        // (`ShownRunStatus`), as SQLite's v11.
        ("v10", """
            CREATE INDEX task_open_by_run ON task (run_id) WHERE status = 'open';
            CREATE INDEX chat_question_unanswered_by_run ON chat_question (run_id) WHERE answer IS NULL;
            """),
        // Reports: a playbook's runs by its name, actions by time, those in force, a run's
        // approvals by time answered; the audit: actions undone and questions answered by time
        // (SQLite's v12).
        ("v11", """
            ALTER TABLE run ADD COLUMN playbook text;
            CREATE INDEX action_by_time ON action (at);
            CREATE INDEX action_in_force ON action (at) WHERE status = 'done';
            CREATE INDEX chat_question_by_run ON chat_question (run_id, answered_at);
            CREATE INDEX action_undone_by_time ON action (undone_at) WHERE undone_at IS NOT NULL;
            CREATE INDEX chat_question_by_answered_at ON chat_question (answered_at) WHERE answered_at IS NOT NULL;
            """),
        // A kill asked of a run that another worker executes (`StoreWrite.askToKill`), kept until the
        // run ends: the worker that executes it, or the next to claim it, stops it. Closing an
        // incident asks it of the incident's unfinished runs, found through the index.
        ("v12", """
            ALTER TABLE run ADD COLUMN kill_reason text;
            CREATE INDEX run_unfinished_by_incident ON run (incident) WHERE status IN ('pending', 'running', 'waiting');
            """),
        // Personal API tokens by their SHA-256, one live token per name (SQLite's v13).
        ("v13", """
            CREATE TABLE personal_token (
                sha256 text COLLATE "C" PRIMARY KEY,
                name text NOT NULL,
                created_at bigint NOT NULL,
                created_by text NOT NULL,
                revoked_at bigint
            );
            CREATE UNIQUE INDEX personal_token_live ON personal_token (name) WHERE revoked_at IS NULL;
            """),
        // The question whose yes approved an action, as SQLite's v14 (the actions before get the
        // run's approval answered last before them, through the index then dropped).
        ("v14", """
            ALTER TABLE action ADD COLUMN question text;
            UPDATE action SET question = (
                SELECT id FROM chat_question
                WHERE run_id = split_part(key, '/', 1) AND answered_at <= action.at AND answer = 'approve'
                ORDER BY answered_at DESC LIMIT 1)
            WHERE approved_by IS NOT NULL AND approved_by <> '\(ActionRecord.standingApproval)' AND strpos(key, '/') > 0;
            DROP INDEX chat_question_by_run;
            """),
        // When each personal token was last used, and the tokens for /metrics alone (SQLite's v15).
        ("v15", """
            ALTER TABLE personal_token ADD COLUMN last_used_at bigint, ADD COLUMN metrics_only boolean NOT NULL DEFAULT false;
            """),
        // The texts of edited messages, with when they were checked, for the sweep; those kept in
        // chat_state had no time and go (SQLite's v16).
        ("v16", """
            CREATE TABLE chat_edit (
                network text NOT NULL, channel text NOT NULL, message text NOT NULL, text text NOT NULL,
                at bigint NOT NULL, PRIMARY KEY (network, channel, message)
            );
            CREATE INDEX chat_edit_by_time ON chat_edit (at);
            DELETE FROM chat_state WHERE key LIKE 'edited.%';
            """),
        // Runs' sources once per distinct text, by SHA-256 (`ScriptSource`; SQLite's v17).
        ("v17", """
            CREATE TABLE script_source (digest bytea PRIMARY KEY, source bytea NOT NULL);
            ALTER TABLE run ADD COLUMN source_digest bytea;
            """),
        // The report's first act of a person on each incident, its import left out (SQLite's v18,
        // which had the index without `imported` since v7): the report's query for each incident
        // reads it in place of the incident's whole journal.
        ("v18", """
            CREATE INDEX journal_person_acts ON journal (incident, at)
            WHERE kind NOT IN ('created', 'alert', 'imported') AND actor NOT IN ('automator', 'script')
              AND left(actor, 9) <> 'playbook ';
            """),
        // The incident a question was asked for (a war room's `!action`: its command run has
        // none); NULL for those asked before (SQLite's v19).
        ("v19", "ALTER TABLE chat_question ADD COLUMN incident bigint"),
        // An action's ttl as planned, in milliseconds: what a dry run would have had (SQLite's v20).
        ("v20", "ALTER TABLE action ADD COLUMN ttl_ms bigint"),
        // Slash commands' conversations, which every worker answers, swept half an hour after
        // (SQLite's v21).
        ("v21", """
            CREATE TABLE chat_command (
                network text NOT NULL, id text NOT NULL, name text NOT NULL, response_url text NOT NULL,
                opened_at bigint NOT NULL, PRIMARY KEY (network, id)
            );
            CREATE INDEX chat_command_by_time ON chat_command (opened_at);
            """),
        // The source a webhook's token may post alerts to, and nothing else (SQLite's v22).
        ("v22", "ALTER TABLE personal_token ADD COLUMN ingest_only text"),
        // Each integration's fetch: its cursor and how its runs went (SQLite's v23).
        ("v23", """
            CREATE TABLE fetch_cursor (
                name text PRIMARY KEY, cursor text, last_success bigint, failing_since bigint,
                failures integer NOT NULL DEFAULT 0, last_error text
            );
            """),
        // What a closed incident turned out to be; NULL for those closed before (SQLite's v24).
        ("v24", "ALTER TABLE incident ADD COLUMN resolution text"),
    ]

    /// Indexes the indicators of every incident stored before v3.
    private static func indexIncidents(_ session: PostgresSession) async throws {
        for row in try await session.rows("SELECT number, title, details, fields, raw FROM incident") {
            let texts = [try row[1].decode(String.self), try row[2].decode(String.self), try row[3].decode(String.self),
                         try row[4].decode(String?.self) ?? ""]
            try await index(IncidentIndicators.values(in: texts), of: IncidentID(try row[0].decode(Int.self)), in: session)
        }
    }

    /// Brings the database's schema up to date, one transaction under the migration lock; refuses
    /// a database with versions this automator does not know (a newer one wrote them). Returns
    /// the versions applied.
    @discardableResult
    static func migrate(_ session: PostgresSession, location: PostgresLocation) async throws -> [String] {
        try await session.changes("BEGIN")
        do {
            let applied = try await migrate(inTransaction: session, location: location)
            try await session.changes("COMMIT")
            return applied
        } catch {
            _ = try? await session.changes("ROLLBACK")
            throw error
        }
    }

    /// As `migrate`, in the transaction open on `session`, which its owner commits or rolls back
    /// (`store copy`'s: the schema comes with the rows, or not at all). The migration lock is
    /// held to its end: workers starting meanwhile wait for it.
    static func migrate(inTransaction session: PostgresSession, location: PostgresLocation) async throws -> [String] {
        try await session.changes("SELECT pg_advisory_xact_lock(\(migrationLock))")
        try await session.changes("""
            CREATE TABLE IF NOT EXISTS automator_schema (version text PRIMARY KEY, applied_at bigint NOT NULL)
            """)
        let applied = Set(try await session.rows("SELECT version FROM automator_schema").map {
            try $0[0].decode(String.self)
        })
        let unknown = applied.subtracting(migrations.map(\.version)).sorted()
        guard unknown.isEmpty else { throw StoreError.newerSchema(location.description, unknown: unknown) }
        let missing = migrations.filter { !applied.contains($0.version) }
        for migration in missing {
            for statement in migration.sql.components(separatedBy: ";\n")
            where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                try await session.changes(PostgresQuery(unsafeSQL: statement))
            }
            if migration.version == "v3" { try await indexIncidents(session) }
            try await session.changes("""
                INSERT INTO automator_schema (version, applied_at)
                VALUES (\(migration.version), \(Date().millisecondsSince1970))
                """)
        }
        return missing.map(\.version)
    }
}
