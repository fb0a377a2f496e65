-- 200,000 closed phishing incidents, each with 5 journal entries (made-up hashes: verification stops
-- at the first entry), a task, an indicator and its playbook's run of 1.7 KB with 4 host calls:
-- 2.6 million rows, 857 MB. Into a data folder that automator made (incident create), then
-- store copy --data into a database and store copy --to-folder out of it (docs/BENCHMARKS.md).
--   sqlite3 DATA/automator.sqlite < Benchmarks/store-copy.sql
PRAGMA foreign_keys=OFF;
DELETE FROM host_call; DELETE FROM run; DELETE FROM custody; DELETE FROM evidence; DELETE FROM journal_checkpoint;
DELETE FROM journal; DELETE FROM task; DELETE FROM incident_indicator; DELETE FROM incident;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 200000)
INSERT INTO incident (number,title,type,severity,status,labels,fields,details,created_at,updated_at,alert_count,playbook,run_id)
SELECT i, 'Phishing reported by user '||i, 'phishing', 'high', 'closed', '["mail"]', '{"sender":"a'||i||'@bad.example"}',
       'Reported mail from a'||i||'@bad.example with a link to http://bad'||i||'.example/login', 1764547200000+i, 1764547200000+i, 1,
       'Phishing triage', 'run-'||i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1000000)
INSERT INTO journal (sequence,incident,at,actor,kind,text,hash,chain)
SELECT i, (i-1)/5+1, 1764547200000+i, 'playbook Phishing triage', 'note', 'step '||i||' of the triage: looked up the sender', randomblob(32),
       CASE WHEN i % 5 = 0 THEN randomblob(32) END FROM n;
INSERT INTO task (number,incident,run_id,title,description,choices,status,answer,completed_by,created_at,completed_at)
SELECT number, number, run_id, 'Confirm with the reporter', '', '[]', 'done', 'yes', 'ann', created_at, created_at+1000 FROM incident;
INSERT INTO incident_indicator (value,incident) SELECT 'bad'||number||'.example', number FROM incident;
INSERT INTO run (key,id,script,source,arguments,status,created_at,updated_at,finished_at,result,entry,incident,playbook)
SELECT number, 'run-'||number, 'playbooks/phishing.lua', randomblob(1700), '[]', 'completed', created_at, created_at+2000, created_at+2000, 'null', 'run', number, 'Phishing triage' FROM incident;
WITH RECURSIVE s(q) AS (SELECT 1 UNION ALL SELECT q+1 FROM s WHERE q < 4)
INSERT INTO host_call (run_key,sequence,name,arguments_digest,result,recorded_at)
SELECT key, q, 'intel.reputation', lower(hex(randomblob(32))), randomblob(120), created_at+q FROM run, s;
COMMIT;
