// Numbered, append-only. A released migration is never edited: add the next number instead.
export interface Migration {
  version: number
  name: string
  sql: string
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'audit log and settings',
    sql: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
        detail TEXT NOT NULL
      );
      CREATE INDEX audit_log_at ON audit_log (at);
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'headless host sessions',
    sql: `
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        actor TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_expires_at ON sessions (expires_at);
    `,
  },
  {
    version: 3,
    name: 'fleet registry, metric time series and lifecycle events',
    sql: `
      CREATE TABLE fleet_devices (
        key TEXT PRIMARY KEY,
        group_id TEXT NOT NULL,
        edge_node_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        first_seen INTEGER,
        last_seen INTEGER,
        firmware TEXT NOT NULL DEFAULT '',
        -- The last birth certificate, as JSON metric definitions: what the device said it has.
        birth_at INTEGER,
        bd_seq INTEGER,
        birth TEXT,
        expected INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      CREATE TABLE metric_series (
        id INTEGER PRIMARY KEY,
        device_key TEXT NOT NULL,
        name TEXT NOT NULL,
        datatype TEXT NOT NULL,
        UNIQUE (device_key, name)
      );
      -- Raw samples for the recent past; numbers in value, everything else in text.
      CREATE TABLE metric_samples (
        series_id INTEGER NOT NULL,
        at INTEGER NOT NULL,
        value REAL,
        text TEXT,
        PRIMARY KEY (series_id, at)
      ) WITHOUT ROWID;
      -- Roll-ups of numeric series per bucket of "resolution" seconds, kept far longer than raw.
      CREATE TABLE metric_rollups (
        series_id INTEGER NOT NULL,
        resolution INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        count INTEGER NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        sum REAL NOT NULL,
        last REAL NOT NULL,
        PRIMARY KEY (series_id, resolution, bucket)
      ) WITHOUT ROWID;
      CREATE TABLE lifecycle_events (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        device_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
      );
      CREATE INDEX lifecycle_events_device ON lifecycle_events (device_key, at);
      CREATE INDEX lifecycle_events_at ON lifecycle_events (at);
    `,
  },
  {
    version: 4,
    name: 'bench: firmware files, flashing recipes, flash job log',
    sql: `
      -- Files are kept by content under <data>/firmware/<sha256>.bin; this is what the console read in them.
      CREATE TABLE firmware_files (
        sha256 TEXT PRIMARY KEY,
        file_name TEXT NOT NULL,
        size INTEGER NOT NULL,
        imported_at INTEGER NOT NULL,
        summary TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE recipes (
        name TEXT PRIMARY KEY,
        regions TEXT NOT NULL,
        serial_pattern TEXT NOT NULL,
        baud INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- One row per board per batch: who, when, which board, chip, MAC, image hashes, result.
      CREATE TABLE flash_jobs (
        id INTEGER PRIMARY KEY,
        batch_id INTEGER NOT NULL,
        port TEXT NOT NULL,
        recipe TEXT NOT NULL,
        serial TEXT NOT NULL,
        state TEXT NOT NULL,
        phase TEXT NOT NULL,
        chip TEXT,
        mac TEXT,
        error_code TEXT,
        error_message TEXT,
        regions TEXT NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        operator TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX flash_jobs_batch ON flash_jobs (batch_id);
    `,
  },
  {
    version: 5,
    name: 'bench: what kind of file each firmware file is, and for which chip',
    sql: `
      ALTER TABLE firmware_files ADD COLUMN kind TEXT NOT NULL DEFAULT 'data';
      ALTER TABLE firmware_files ADD COLUMN chip TEXT;
    `,
  },
  {
    version: 6,
    name: 'site: imported versions of the site',
    sql: `
      -- Every import is kept: the site is versioned, and an older version can be looked at again.
      CREATE TABLE site_versions (
        version INTEGER PRIMARY KEY,
        file_name TEXT NOT NULL,
        imported_at INTEGER NOT NULL,
        operator TEXT NOT NULL,
        report TEXT NOT NULL,
        collection TEXT NOT NULL,
        overlays TEXT NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'OTA: artifacts with their signed manifests',
    sql: `
      -- The image itself is <data>/artifacts/<sha256>.bin; the manifest is signed by the release key.
      CREATE TABLE ota_artifacts (
        sha256 TEXT PRIMARY KEY,
        file_name TEXT NOT NULL,
        imported_at INTEGER NOT NULL,
        operator TEXT NOT NULL,
        manifest TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: 'OTA: rollouts and their log',
    sql: `
      -- A rollout is its plan (fixed when it starts) and a snapshot of its state machine, rewritten as it
      -- moves, so a console that restarts carries on where it was.
      CREATE TABLE ota_rollouts (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        operator TEXT NOT NULL,
        artifact TEXT NOT NULL,
        file_name TEXT NOT NULL,
        version TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT NOT NULL,
        plan TEXT NOT NULL,
        snapshot TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE ota_rollout_log (
        id INTEGER PRIMARY KEY,
        rollout_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        device_id TEXT,
        detail TEXT NOT NULL
      );
      CREATE INDEX ota_rollout_log_by_rollout ON ota_rollout_log (rollout_id, id);
    `,
  },
  {
    version: 9,
    name: 'site: revisions of the site plan, and the edited catalogue',
    sql: `
      -- Every save is a revision: the whole model, so any revision can be looked at or opened again alone.
      CREATE TABLE site_plans (
        revision INTEGER PRIMARY KEY,
        saved_at INTEGER NOT NULL,
        operator TEXT NOT NULL,
        label TEXT NOT NULL,
        -- The import the plan was built from; null for edits and opened files.
        source_version INTEGER,
        model TEXT NOT NULL,
        report TEXT
      );
      -- The site's own copy of the catalogue; no row means the built-in one.
      CREATE TABLE site_catalogue (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        parts TEXT NOT NULL,
        edited_at INTEGER NOT NULL,
        operator TEXT NOT NULL
      );
    `,
  },
]
