-- Record linkage (deduplication of assistance lists): runs, the clerical-review queue and its decisions.
-- Review items hold the pair's record ids and its comparison details (the level and weight of each comparison),
-- never names or dates: the reviewer's CLI shows the values from the lists themselves, read locally. Decisions are
-- appended, never updated: the latest one for a pair counts, the history stays (and each is in the audit log).

CREATE TABLE linkage_runs (
    run_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL,
    mode VARCHAR NOT NULL,
    sources VARCHAR NOT NULL,
    records BIGINT NOT NULL,
    candidate_pairs BIGINT NOT NULL,
    links BIGINT NOT NULL,
    review_items BIGINT NOT NULL,
    threshold DOUBLE NOT NULL,
    review_threshold DOUBLE NOT NULL,
    model VARCHAR
);

CREATE TABLE linkage_review_items (
    run_id VARCHAR NOT NULL,
    item BIGINT NOT NULL,
    src_l VARCHAR NOT NULL,
    id_l VARCHAR NOT NULL,
    src_r VARCHAR NOT NULL,
    id_r VARCHAR NOT NULL,
    match_probability DOUBLE NOT NULL,
    match_weight DOUBLE NOT NULL,
    details VARCHAR NOT NULL,
    PRIMARY KEY (run_id, item)
);

CREATE TABLE linkage_decisions (
    decision_id BIGINT PRIMARY KEY,
    run_id VARCHAR,
    item BIGINT,
    src_l VARCHAR NOT NULL,
    id_l VARCHAR NOT NULL,
    src_r VARCHAR NOT NULL,
    id_r VARCHAR NOT NULL,
    decision VARCHAR NOT NULL,
    decided_by VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    reason VARCHAR
);
CREATE INDEX linkage_decisions_pair ON linkage_decisions (src_l, id_l, src_r, id_r);
