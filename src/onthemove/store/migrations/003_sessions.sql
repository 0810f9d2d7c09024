-- Browser sessions of the web pages, kept in the store so that a restart (or another worker) keeps them.
-- Only the SHA-256 of the cookie's random id is stored: a copy of the store does not give live sessions.

CREATE TABLE web_sessions (
    session_hash VARCHAR PRIMARY KEY,
    username VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
