-- Registration and assistance: the protected personal-data tables (households, members, consents) and the
-- assistance delivered to them (distributions). Identifying fields are only ever stored as AES-256-GCM
-- ciphertext (columns ending in _enc) whose key lives outside the store; *_index columns are keyed blind
-- indexes (HMAC-SHA256) for exact lookups; household_id and member_id are keyed pseudonyms.
-- docs/registry.md describes the design. Imports are batches of their own (registry_batches): personal data
-- never goes through the canonical ingest path, its rejections never store the values that were refused.

CREATE TABLE registry_batches (
    batch_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    loaded_by VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    status VARCHAR NOT NULL
);

-- fingerprints of the keys in use (never the keys): a different key is refused instead of silently
-- producing new pseudonyms or undecryptable rows
CREATE TABLE registry_keys (
    purpose VARCHAR PRIMARY KEY,
    key_id VARCHAR NOT NULL,
    since TIMESTAMP NOT NULL
);

CREATE TABLE consents (
    consent_id VARCHAR PRIMARY KEY,
    household_id VARCHAR NOT NULL,
    purposes VARCHAR NOT NULL,
    given_at DATE NOT NULL,
    taken_by VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    withdrawn_at TIMESTAMP,
    withdrawn_by VARCHAR,
    batch_id VARCHAR NOT NULL
);
CREATE INDEX consents_household ON consents (household_id);

CREATE TABLE households (
    household_id VARCHAR PRIMARY KEY,
    site_id VARCHAR NOT NULL,
    place VARCHAR,
    size INTEGER NOT NULL,
    head_sex VARCHAR NOT NULL,
    head_age_band VARCHAR NOT NULL,
    vulnerabilities VARCHAR,
    registered_at DATE NOT NULL,
    registered_by VARCHAR NOT NULL,
    consent_id VARCHAR NOT NULL,
    retention_until DATE NOT NULL,
    status VARCHAR NOT NULL,
    head_name_enc VARCHAR,
    phone_enc VARCHAR,
    address_enc VARCHAR,
    phone_index VARCHAR,
    batch_id VARCHAR NOT NULL,
    row_number BIGINT
);
CREATE INDEX households_site ON households (site_id);
CREATE INDEX households_phone ON households (phone_index);

CREATE TABLE members (
    member_id VARCHAR PRIMARY KEY,
    household_id VARCHAR NOT NULL,
    relationship VARCHAR,
    sex VARCHAR NOT NULL,
    birth_year INTEGER,
    age_band VARCHAR NOT NULL,
    disability BOOLEAN,
    name_enc VARCHAR,
    birth_date_enc VARCHAR,
    document_enc VARCHAR,
    name_index VARCHAR,
    document_index VARCHAR,
    batch_id VARCHAR NOT NULL,
    row_number BIGINT
);
CREATE INDEX members_household ON members (household_id);
CREATE INDEX members_document ON members (document_index);
CREATE INDEX members_name ON members (name_index);

-- one row per package handed to a household; distribution_id is a hash of the entitlement (household,
-- programme, package, cycle), so the same household cannot be paid twice for it on any engine
CREATE TABLE distributions (
    distribution_id VARCHAR PRIMARY KEY,
    household_id VARCHAR,
    site_id VARCHAR NOT NULL,
    place VARCHAR,
    date DATE NOT NULL,
    cycle VARCHAR NOT NULL,
    sector VARCHAR NOT NULL,
    package VARCHAR NOT NULL,
    quantity DOUBLE NOT NULL,
    unit VARCHAR,
    value DOUBLE,
    currency VARCHAR,
    organisation VARCHAR NOT NULL,
    programme VARCHAR,
    people INTEGER NOT NULL,
    batch_id VARCHAR NOT NULL,
    row_number BIGINT
);
CREATE INDEX distributions_household ON distributions (household_id);
CREATE INDEX distributions_batch ON distributions (batch_id);
