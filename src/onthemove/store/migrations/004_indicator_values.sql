-- Reported indicator values (baselines, targets, actuals) of the results framework, loaded as batches of kind
-- indicator_values: validated, attributed and rolled back like every other kind.

CREATE TABLE indicator_values (
    batch_id VARCHAR NOT NULL,
    row_number BIGINT,
    indicator VARCHAR NOT NULL,
    value_type VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE,
    place VARCHAR,
    sex VARCHAR NOT NULL,
    age_group VARCHAR NOT NULL,
    population_group VARCHAR NOT NULL,
    disability VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    comment VARCHAR
);
CREATE INDEX indicator_values_batch ON indicator_values (batch_id);
CREATE INDEX indicator_values_indicator ON indicator_values (indicator);
