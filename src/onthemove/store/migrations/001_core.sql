-- Core schema: batches and their rejections, the gazetteer, and the canonical tables.
-- Written in DuckDB SQL; the PostgreSQL engine receives the SQLGlot transpilation.

CREATE TABLE batches (
    batch_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    mapping VARCHAR,
    attribution VARCHAR,
    licence VARCHAR,
    loaded_by VARCHAR,
    loaded_at TIMESTAMP NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    status VARCHAR NOT NULL,
    report VARCHAR
);

CREATE TABLE rejections (
    batch_id VARCHAR NOT NULL,
    row_number BIGINT,
    column_name VARCHAR,
    value VARCHAR,
    expected VARCHAR NOT NULL
);
CREATE INDEX rejections_batch ON rejections (batch_id);

CREATE TABLE places (
    pcode VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    admin_level INTEGER NOT NULL,
    parent_pcode VARCHAR,
    country VARCHAR,
    adm0 VARCHAR,
    adm1 VARCHAR,
    adm2 VARCHAR,
    adm3 VARCHAR,
    valid_from DATE,
    batch_id VARCHAR NOT NULL
);
CREATE INDEX places_batch ON places (batch_id);

CREATE TABLE place_geometries (
    pcode VARCHAR NOT NULL,
    geometry VARCHAR NOT NULL,
    geometry_web VARCHAR NOT NULL,
    centroid_lat DOUBLE,
    centroid_lon DOUBLE,
    area_km2 DOUBLE,
    batch_id VARCHAR NOT NULL
);
CREATE INDEX place_geometries_pcode ON place_geometries (pcode);

CREATE TABLE place_aliases (
    alias VARCHAR NOT NULL,
    pcode VARCHAR NOT NULL,
    source VARCHAR,
    batch_id VARCHAR
);
CREATE INDEX place_aliases_pcode ON place_aliases (pcode);

CREATE TABLE displacement (
    batch_id VARCHAR NOT NULL,
    row_number BIGINT,
    place VARCHAR NOT NULL,
    date DATE NOT NULL,
    round INTEGER,
    population_group VARCHAR NOT NULL,
    reason VARCHAR,
    origin VARCHAR,
    sex VARCHAR NOT NULL,
    age_group VARCHAR NOT NULL,
    count BIGINT NOT NULL
);
CREATE INDEX displacement_batch ON displacement (batch_id);

CREATE TABLE movements (
    batch_id VARCHAR NOT NULL,
    row_number BIGINT,
    from_place VARCHAR,
    to_place VARCHAR,
    date DATE NOT NULL,
    population_group VARCHAR NOT NULL,
    reason VARCHAR,
    sex VARCHAR NOT NULL,
    age_group VARCHAR NOT NULL,
    count BIGINT NOT NULL
);
CREATE INDEX movements_batch ON movements (batch_id);

CREATE TABLE sites (
    batch_id VARCHAR NOT NULL,
    row_number BIGINT,
    site_id VARCHAR NOT NULL,
    name VARCHAR,
    place VARCHAR,
    site_type VARCHAR,
    households BIGINT,
    individuals BIGINT,
    latitude DOUBLE,
    longitude DOUBLE,
    date DATE
);
CREATE INDEX sites_batch ON sites (batch_id);
CREATE INDEX sites_site ON sites (site_id);

CREATE TABLE site_assessments (
    batch_id VARCHAR NOT NULL,
    row_number BIGINT,
    site_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    sector VARCHAR,
    indicator VARCHAR NOT NULL,
    value DOUBLE NOT NULL
);
CREATE INDEX site_assessments_batch ON site_assessments (batch_id);

CREATE TABLE driver_events (
    batch_id VARCHAR NOT NULL,
    row_number BIGINT,
    place VARCHAR,
    date DATE NOT NULL,
    driver VARCHAR NOT NULL,
    indicator VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    event_id VARCHAR,
    latitude DOUBLE,
    longitude DOUBLE
);
CREATE INDEX driver_events_batch ON driver_events (batch_id);
