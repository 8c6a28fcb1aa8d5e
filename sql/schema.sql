-- govgate: the tables lessons 166 and 174 assume, for PostgreSQL 14 or later.
--
--   psql -v ON_ERROR_STOP=1 -d governance -f sql/schema.sql
--
-- Lesson 174's DDL is the seed's, column for column; where PostgreSQL refuses the seed as written,
-- the fix and the reason are in a comment marked "CORRECTED". Constraints the seed only states in
-- prose or comments are added and marked "ADDED", so the database refuses the same rows govgate
-- refuses. Lesson 166 gives column lists but no DDL; its tables are designed here.
--
-- PostgreSQL 14 or later: there EXTRACT returns NUMERIC, so ack_latency_hours is exact (older
-- versions return double precision and can round a latency at a .005 boundary differently from
-- govgate). govgate reads these tables with `postgresql://...?table=NAME` references
-- (docs/sources.md), in a read-only transaction.
--
-- Every statement runs in one transaction: a failure leaves nothing half-created.

BEGIN;

-- ---------------------------------------------------------------------------------------------
-- Lesson 166: the weekly reconciliation job's scheduler rows and the signer acks bound to them
-- ---------------------------------------------------------------------------------------------

-- One row per scheduled window of the reconciliation job. A window without a row counts as
-- skipped (a silent failure is a skip), so the scheduler writes a SKIPPED row with its reason.
CREATE TABLE reconciliation_job_run (
    job_run_id   TEXT PRIMARY KEY CHECK (job_run_id <> ''),
    scheduled_at TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    -- NULL unless the run was skipped (NULL passes a CHECK, so no "OR skip_reason IS NULL").
    skip_reason  TEXT CHECK (skip_reason IN ('maintenance', 'credential_rotation',
                                             'manual_pause')),
    -- The diff JSON or CSV, stored immutably beside the tuple archives.
    artifact_uri TEXT,
    status       TEXT NOT NULL CHECK (status IN ('PASS', 'FAIL', 'SKIPPED')),
    -- A skip names its reason and only a skip has one: govgate refuses either mismatch.
    CONSTRAINT reconciliation_job_run_skip_reason_iff_skipped
        CHECK ((status = 'SKIPPED') = (skip_reason IS NOT NULL)),
    -- A PASS or FAIL ran: govgate refuses one with neither instant.
    CONSTRAINT reconciliation_job_run_ran
        CHECK (status = 'SKIPPED' OR started_at IS NOT NULL OR completed_at IS NOT NULL)
);

CREATE INDEX reconciliation_job_run_scheduled_at_idx ON reconciliation_job_run (scheduled_at);

-- A signer's acknowledgment of a run. "Signer UI cannot emit ack without job_run_id foreign key
-- populated": NOT NULL plus the foreign key make the database itself refuse an ack without a
-- job, or for a job that does not exist. Whether the run was eligible (green, or amber with an
-- override) is govgate's rule, evaluated at the ack's instant; a CHECK cannot look back a week.
CREATE TABLE reconciliation_run_ack (
    ack_id     TEXT PRIMARY KEY CHECK (ack_id <> ''),
    -- No ON DELETE action: a run that was acked cannot be deleted from under its ack.
    job_run_id TEXT NOT NULL REFERENCES reconciliation_job_run (job_run_id),
    signer_id  TEXT NOT NULL CHECK (signer_id <> ''),
    ack_dt_utc TIMESTAMPTZ NOT NULL
);

-- Foreign keys are not indexed automatically; this keeps "acks of this run" and the key check on
-- a job row's deletion from scanning every ack.
CREATE INDEX reconciliation_run_ack_job_run_id_idx ON reconciliation_run_ack (job_run_id);

-- ---------------------------------------------------------------------------------------------
-- Lesson 174: signer acks, the fatigue heat-map, the backup owner policy and its audit tables
-- ---------------------------------------------------------------------------------------------

CREATE TABLE signer_ack_event (
    ack_event_id     TEXT PRIMARY KEY,
    signer_id        TEXT NOT NULL,
    owner_route      TEXT NOT NULL, -- 'publish_gate' | 'faq_rewrite' | 'freeze_bypass' | 'exec_readback'
    cert_window_id   TEXT,          -- nullable; some acks span windows
    request_dt_utc   TIMESTAMPTZ NOT NULL,
    ack_dt_utc       TIMESTAMPTZ,   -- nullable until acked
    ack_outcome      TEXT,          -- 'approved' | 'rejected' | 'reroute_requested' | 'timeout'
    sla_target_hours NUMERIC(5,2) NOT NULL,
    -- Accepted as the seed wrote it: timestamptz - timestamptz is an absolute interval and
    -- EXTRACT(EPOCH FROM interval) is immutable, as a generated column requires. Storing into
    -- NUMERIC(8,2) rounds half away from zero: 30 min 17 s is 0.5047 h, stored as 0.50.
    ack_latency_hours NUMERIC(8,2)
        GENERATED ALWAYS AS (
            CASE
                WHEN ack_dt_utc IS NULL THEN NULL
                ELSE EXTRACT(EPOCH FROM (ack_dt_utc - request_dt_utc)) / 3600
            END
        ) STORED,
    -- CORRECTED. The seed wrote
    --     ack_latency_hours IS NOT NULL AND ack_latency_hours > sla_target_hours
    -- and PostgreSQL refuses it: "cannot use generated column "ack_latency_hours" in column
    -- generation expression (A generated column cannot reference another generated column)".
    -- The expression is repeated instead, cast to NUMERIC(8,2) exactly like the stored column, so
    -- breached still compares the ROUNDED latency, as the seed meant: 0.50 h is not a breach of a
    -- 0.50 h SLA even when the exact latency was 0.5047 h.
    breached BOOLEAN
        GENERATED ALWAYS AS (
            ack_dt_utc IS NOT NULL
            AND CAST(EXTRACT(EPOCH FROM (ack_dt_utc - request_dt_utc)) / 3600 AS NUMERIC(8,2))
                > sla_target_hours
        ) STORED,
    -- ADDED: the value sets the seed lists in its comments, which govgate also enforces.
    CONSTRAINT signer_ack_event_owner_route_check
        CHECK (owner_route IN ('publish_gate', 'faq_rewrite', 'freeze_bypass', 'exec_readback')),
    CONSTRAINT signer_ack_event_ack_outcome_check
        CHECK (ack_outcome IN ('approved', 'rejected', 'reroute_requested', 'timeout')),
    -- ADDED: the heat-map divides by the SLA; one zero would make every REFRESH fail.
    CONSTRAINT signer_ack_event_sla_positive CHECK (sla_target_hours > 0)
);

-- The heat-map reads the last 14 days of requests.
CREATE INDEX signer_ack_event_request_dt_utc_idx ON signer_ack_event (request_dt_utc);

-- The seed's view, unchanged. NOW() is evaluated at each REFRESH, so the view is the state as of
-- its last refresh (nightly, 00:00 UTC). The classification (red / amber / recovering / green) is
-- not a column: "recovering" depends on the previous days' refreshes, which a view does not keep;
-- govgate computes it, and the snapshot hash, from signer_ack_event.
CREATE MATERIALIZED VIEW signer_fatigue_heatmap_14d AS
SELECT
    signer_id,
    COUNT(*) AS ack_count_14d,
    COUNT(*) FILTER (WHERE breached = TRUE) AS breached_count_14d,
    COUNT(DISTINCT cert_window_id) AS concurrent_window_count_14d,
    AVG(ack_latency_hours) AS avg_latency_hours_14d,
    AVG(ack_latency_hours / sla_target_hours) AS avg_latency_ratio_14d,
    COUNT(*) FILTER (WHERE ack_outcome IS NULL) AS pending_acks_now
FROM signer_ack_event
WHERE request_dt_utc >= NOW() - INTERVAL '14 days'
GROUP BY signer_id;

-- ADDED: the seed refreshes "nightly with CONCURRENTLY", and PostgreSQL refuses
-- REFRESH MATERIALIZED VIEW CONCURRENTLY on a view without a unique index on plain columns
-- covering every row. signer_id is unique in the view (GROUP BY signer_id).
CREATE UNIQUE INDEX signer_fatigue_heatmap_14d_signer_id_idx
    ON signer_fatigue_heatmap_14d (signer_id);

CREATE TABLE backup_owner_policy (
    owner_route      TEXT PRIMARY KEY, -- one row per route
    primary_signer   TEXT NOT NULL,
    backup_signer    TEXT NOT NULL,
    promote_trigger  TEXT NOT NULL,    -- deterministic condition string
    revert_condition TEXT NOT NULL,
    policy_version   TEXT NOT NULL,    -- semver, e.g. '1.2.0'
    approved_by      TEXT NOT NULL,    -- team-lead role, signer-acked
    approved_dt_utc  TIMESTAMPTZ NOT NULL,
    -- The seed's constraint: a real backup. It cannot see other routes (one person primary on one
    -- route and backup on another); govgate audits the whole policy for that.
    CHECK (primary_signer <> backup_signer),
    -- ADDED: the routes govgate knows, and the semver the comment asks for.
    CONSTRAINT backup_owner_policy_owner_route_check
        CHECK (owner_route IN ('publish_gate', 'faq_rewrite', 'freeze_bypass', 'exec_readback')),
    CONSTRAINT backup_owner_policy_policy_version_semver
        CHECK (policy_version ~ '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$')
);

CREATE TABLE backup_promote_event (
    promote_event_id       TEXT PRIMARY KEY,
    owner_route            TEXT NOT NULL REFERENCES backup_owner_policy (owner_route),
    promoted_signer        TEXT NOT NULL,
    trigger_type           TEXT NOT NULL, -- 'heatmap_red' | 'pending_acks_aged' | 'manual_invocation'
    trigger_evidence_ref   TEXT NOT NULL, -- pointer to the heatmap snapshot hash or aged-ack row
    promoted_at_dt_utc     TIMESTAMPTZ NOT NULL,
    reverted_at_dt_utc     TIMESTAMPTZ,
    policy_version_at_time TEXT NOT NULL,
    -- ADDED: the three trigger forms the seed lists; a revert cannot precede its promote.
    CONSTRAINT backup_promote_event_trigger_type_check
        CHECK (trigger_type IN ('heatmap_red', 'pending_acks_aged', 'manual_invocation')),
    CONSTRAINT backup_promote_event_revert_after_promote
        CHECK (reverted_at_dt_utc IS NULL OR reverted_at_dt_utc >= promoted_at_dt_utc)
);

CREATE INDEX backup_promote_event_owner_route_idx ON backup_promote_event (owner_route);

-- "Forced revert (team-lead manual override) is allowed for emergencies but writes a separate
-- forced_revert_event row with reason." The seed names the table only; designed here.
CREATE TABLE forced_revert_event (
    forced_revert_event_id TEXT PRIMARY KEY,
    promote_event_id       TEXT NOT NULL REFERENCES backup_promote_event (promote_event_id),
    reverted_at_dt_utc     TIMESTAMPTZ NOT NULL,
    -- The reason is the point of the row: a blank one is refused.
    reason                 TEXT NOT NULL CHECK (btrim(reason) <> ''),
    forced_by              TEXT NOT NULL CHECK (forced_by <> ''),
    policy_version_at_time TEXT NOT NULL
);

CREATE INDEX forced_revert_event_promote_event_id_idx ON forced_revert_event (promote_event_id);

-- "A separate, more permissive table allowing chained backups for routes that need them": the
-- ordered tertiary backups of a route (position 1 is asked first after the backup). The seed
-- names the table only; designed here. That a tertiary is neither the route's primary nor its
-- backup needs another table's row, which a CHECK cannot read; govgate audits it.
CREATE TABLE backup_owner_policy_extended (
    owner_route      TEXT NOT NULL REFERENCES backup_owner_policy (owner_route),
    chain_position   INTEGER NOT NULL CHECK (chain_position >= 1),
    tertiary_signer  TEXT NOT NULL CHECK (tertiary_signer <> ''),
    policy_version   TEXT NOT NULL,
    approved_by      TEXT NOT NULL,
    approved_dt_utc  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (owner_route, chain_position),
    -- A person is listed once per route's chain.
    UNIQUE (owner_route, tertiary_signer)
);

-- Every version of a route's policy, with what changed from the version before. The seed names
-- the table only; designed here. The current version is also in backup_owner_policy.
CREATE TABLE backup_owner_policy_history (
    owner_route       TEXT NOT NULL REFERENCES backup_owner_policy (owner_route),
    policy_version    TEXT NOT NULL
        CHECK (policy_version ~ '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$'),
    primary_signer    TEXT NOT NULL,
    backup_signer     TEXT NOT NULL,
    promote_trigger   TEXT NOT NULL,
    revert_condition  TEXT NOT NULL,
    approved_by       TEXT NOT NULL,
    approved_dt_utc   TIMESTAMPTZ NOT NULL,
    -- NULL while this version is in force.
    superseded_dt_utc TIMESTAMPTZ,
    -- The change from the previous version, {"column": [old, new], ...}; {} for the first one.
    diff              JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(diff) = 'object'),
    PRIMARY KEY (owner_route, policy_version),
    -- Each version in history obeyed the same rule as the live policy.
    CHECK (primary_signer <> backup_signer),
    CHECK (superseded_dt_utc IS NULL OR superseded_dt_utc >= approved_dt_utc)
);

-- ---------------------------------------------------------------------------------------------
-- govgate's ledger, for `ledger: postgresql://...` (docs/ledger.md). Designed here.
-- ---------------------------------------------------------------------------------------------

-- The append-only, hash-chained ledger. `line` is byte for byte the JSON line the file backend
-- writes (it holds seq, kind, key, at, data and prev), so both backends verify with one rule:
-- SHA-256 of each line is the `prev` inside the next. The other columns index it.
CREATE TABLE govgate_ledger (
    seq  BIGINT PRIMARY KEY CHECK (seq >= 1),
    kind TEXT NOT NULL CHECK (kind <> ''),
    -- A fact is written once: re-runs and concurrent runs cannot duplicate it.
    key  TEXT NOT NULL UNIQUE CHECK (key <> ''),
    at   TIMESTAMPTZ NOT NULL,
    line TEXT NOT NULL,
    hash CHAR(64) NOT NULL UNIQUE,
    -- Two records naming the same predecessor would be a fork of the chain.
    prev CHAR(64) NOT NULL UNIQUE
);

-- Append-only: the database refuses to change or remove a record, whoever asks.
CREATE FUNCTION govgate_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'govgate_ledger is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER govgate_ledger_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON govgate_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION govgate_ledger_append_only();

-- Incidents (a red reconciliation state), opened and closed. Projected from the ledger.
CREATE TABLE govgate_incident (
    incident_key TEXT PRIMARY KEY,
    opened_at    TIMESTAMPTZ NOT NULL,
    closed_at    TIMESTAMPTZ,
    data         JSONB NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    CHECK (closed_at IS NULL OR closed_at >= opened_at)
);

-- Page events (PagerDuty Events API v2): one trigger and at most one resolve per dedup_key.
CREATE TABLE govgate_page (
    dedup_key    TEXT NOT NULL CHECK (dedup_key <> ''),
    event_action TEXT NOT NULL CHECK (event_action IN ('trigger', 'resolve')),
    at           TIMESTAMPTZ NOT NULL,
    summary      TEXT NOT NULL,
    body         JSONB NOT NULL,
    PRIMARY KEY (dedup_key, event_action)
);

-- Which sink took which page event: delivered once per sink.
CREATE TABLE govgate_page_delivery (
    sink         TEXT NOT NULL CHECK (sink <> ''),
    dedup_key    TEXT NOT NULL,
    event_action TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sink, dedup_key, event_action),
    FOREIGN KEY (dedup_key, event_action) REFERENCES govgate_page (dedup_key, event_action)
);

COMMIT;
