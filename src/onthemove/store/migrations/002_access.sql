-- Access: users with a role and an optional place scope, API tokens (hashed), and the audit log.

CREATE TABLE users (
    username VARCHAR PRIMARY KEY,
    role VARCHAR NOT NULL,
    scope VARCHAR,
    password_hash VARCHAR,
    created_at TIMESTAMP NOT NULL,
    disabled BOOLEAN NOT NULL
);

CREATE TABLE api_tokens (
    token_hash VARCHAR PRIMARY KEY,
    username VARCHAR NOT NULL,
    label VARCHAR,
    created_at TIMESTAMP NOT NULL,
    revoked BOOLEAN NOT NULL
);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    logged_at TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    target VARCHAR,
    detail VARCHAR,
    prev_hash VARCHAR NOT NULL,
    hash VARCHAR NOT NULL
);
