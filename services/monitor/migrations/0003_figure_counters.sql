-- Pre-aggregated figures, so a dashboard request reads small tables instead of every case.
--
-- Each figure has two tables:
--   c_<figure>: what each notice or case contributes now (its key columns and measures), and
--   n_<figure>: the sums of those contributions, the only table a figures request reads.
-- After applying a batch of events, the projection recomputes the contributions of the notices
-- and cases the batch touched from their history rows, in the same transaction, and adds the
-- difference (new minus old) to the counters (`src/counters.rs`). A redelivered event changes no
-- history row, so its contributions come out the same and the counters do not move: nothing is
-- counted twice, and a rebuild gives the same counters as live.
--
-- Figures over time are kept per day, ISO week and month of their local date (`level`,
-- `start` = the first day), so a request reads whole weeks or months from their own rows and
-- only the partial ones at the ends of its range from the day rows.
-- `gemeentecode` is '' where a notice has no municipality yet (it counts for the region only).
-- Durations are kept as histograms of `monitor_bucket(seconds)`: exact below a minute, then to
-- the minute below an hour, to five minutes below a day, to the hour below thirty days, then to
-- the day; a percentile is the bucket (its lower bound) holding the nearest-rank value.

CREATE FUNCTION monitor_bucket(secs bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN secs < 60 THEN secs
    WHEN secs < 3600 THEN secs - secs % 60
    WHEN secs < 86400 THEN secs - secs % 300
    WHEN secs < 30 * 86400 THEN secs - secs % 3600
    ELSE secs - secs % 86400
END;

-- Notices received, by local day of receipt, municipality routed to, kind and institution.
CREATE TABLE c_notices (
    entity text NOT NULL, day date NOT NULL, gemeentecode text NOT NULL, kind text NOT NULL,
    institution_code text NOT NULL, n bigint NOT NULL);
CREATE INDEX c_notices_entity ON c_notices (entity);
CREATE TABLE n_notices (
    level text NOT NULL, start date NOT NULL, gemeentecode text NOT NULL, kind text NOT NULL,
    institution_code text NOT NULL, n bigint NOT NULL,
    PRIMARY KEY (level, start, gemeentecode, kind, institution_code));

-- Notice → routing decision, by local day of receipt and municipality.
CREATE TABLE c_routing_time (
    entity text NOT NULL, day date NOT NULL, gemeentecode text NOT NULL, bucket bigint NOT NULL,
    n bigint NOT NULL);
CREATE INDEX c_routing_time_entity ON c_routing_time (entity);
CREATE TABLE n_routing_time (
    level text NOT NULL, start date NOT NULL, gemeentecode text NOT NULL, bucket bigint NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (level, start, gemeentecode, bucket));

-- Notice → first claim of a case, by local day the opening notice was received.
CREATE TABLE c_claim_time (
    entity uuid NOT NULL, day date NOT NULL, gemeentecode text NOT NULL, bucket bigint NOT NULL,
    n bigint NOT NULL);
CREATE INDEX c_claim_time_entity ON c_claim_time (entity);
CREATE TABLE n_claim_time (
    level text NOT NULL, start date NOT NULL, gemeentecode text NOT NULL, bucket bigint NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (level, start, gemeentecode, bucket));

-- Cases opened (and of which spoed), by local day of the first opening.
CREATE TABLE c_opened (
    entity uuid NOT NULL, day date NOT NULL, gemeentecode text NOT NULL, opened bigint NOT NULL,
    spoed bigint NOT NULL);
CREATE INDEX c_opened_entity ON c_opened (entity);
CREATE TABLE n_opened (
    level text NOT NULL, start date NOT NULL, gemeentecode text NOT NULL, opened bigint NOT NULL,
    spoed bigint NOT NULL,
    PRIMARY KEY (level, start, gemeentecode));

-- Per condition, its status at the end of the release day, by release day.
CREATE TABLE c_at_release (
    entity uuid NOT NULL, day date NOT NULL, gemeentecode text NOT NULL, condition text NOT NULL,
    status text NOT NULL, n bigint NOT NULL);
CREATE INDEX c_at_release_entity ON c_at_release (entity);
CREATE TABLE n_at_release (
    level text NOT NULL, start date NOT NULL, gemeentecode text NOT NULL, condition text NOT NULL,
    status text NOT NULL, n bigint NOT NULL,
    PRIMARY KEY (level, start, gemeentecode, condition, status));

-- Cases released, with open conditions, and the open conditions, by release day.
CREATE TABLE c_releases (
    entity uuid NOT NULL, day date NOT NULL, gemeentecode text NOT NULL, released bigint NOT NULL,
    with_open bigint NOT NULL, open_conditions bigint NOT NULL);
CREATE INDEX c_releases_entity ON c_releases (entity);
CREATE TABLE n_releases (
    level text NOT NULL, start date NOT NULL, gemeentecode text NOT NULL, released bigint NOT NULL,
    with_open bigint NOT NULL, open_conditions bigint NOT NULL,
    PRIMARY KEY (level, start, gemeentecode));

-- Open cases without a claim since they were (last) opened, by local day of that opening: the
-- request turns the day into an age in working days.
CREATE TABLE c_unclaimed (
    entity uuid NOT NULL, gemeentecode text NOT NULL, opened_on date NOT NULL, n bigint NOT NULL);
CREATE INDEX c_unclaimed_entity ON c_unclaimed (entity);
CREATE TABLE n_unclaimed (
    gemeentecode text NOT NULL, opened_on date NOT NULL, n bigint NOT NULL,
    PRIMARY KEY (gemeentecode, opened_on));

-- Open tasks of open cases with a due date, by that date: the request counts those past it.
CREATE TABLE c_overdue (
    entity uuid NOT NULL, gemeentecode text NOT NULL, due_on date NOT NULL, n bigint NOT NULL);
CREATE INDEX c_overdue_entity ON c_overdue (entity);
CREATE TABLE n_overdue (
    gemeentecode text NOT NULL, due_on date NOT NULL, n bigint NOT NULL,
    PRIMARY KEY (gemeentecode, due_on));

-- Open spoed cases.
CREATE TABLE c_open_spoed (entity uuid NOT NULL, gemeentecode text NOT NULL, n bigint NOT NULL);
CREATE INDEX c_open_spoed_entity ON c_open_spoed (entity);
CREATE TABLE n_open_spoed (gemeentecode text PRIMARY KEY, n bigint NOT NULL);

-- The RCN's "now" sections read the routing rows still waiting; keep those walks short.
CREATE INDEX routing_forwards_waiting ON routing (decided_at)
    WHERE outcome = 'out_of_region' AND acknowledged_at IS NULL;
CREATE INDEX dead_letters_at ON dead_letters (at);
