"""Record linkage: deterministic identifier links, a Splink model, and clustering.

This module works on data frames and returns links; it never writes to the
store (``service.py`` does that). Person records are normalised in DuckDB in
process, so no row leaves the machine, and scored with Splink's DuckDB
backend. Nothing here logs row values: only counts and internal ids.

Two thresholds split the scored pairs (``match_probability``):

- at or above ``match``: the pair joins one cluster;
- in ``[review, match)``: the pair goes to staff review;
- below ``review``: the pair is dropped.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import duckdb
import pandas as pd
from splink.internals.exceptions import SplinkException

from john.errors import ConfigurationError, JohnError
from john.identity import identifiers
from john.identity.comparisons import (
    COMPARED_FIELDS,
    IDENTIFIER_COLUMNS,
    prior_model,
)

log = logging.getLogger(__name__)

RECORD_COLUMNS = (
    "id",
    "source_ukprn",
    "given_name",
    "family_name",
    "date_of_birth",
    "postcode",
    "email",
    *IDENTIFIER_COLUMNS,
    "address_line_1",
    "address_line_2",
    "locality",
    "region",
    "other_identifier",
    "other_identifier_scheme",
)

# Below this many records EM has too few pairs per level to converge, so the
# last saved model (or the prior model) is reused instead of training.
MIN_TRAINING_RECORDS = 1000
RANDOM_SAMPLING_PAIRS = 500_000
TRAINING_SEED = 20260101


@dataclass(frozen=True)
class Thresholds:
    """Match probabilities that split scored pairs into links, reviews and drops."""

    match: float = 0.9
    review: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.review < self.match <= 1.0:
            raise ConfigurationError(
                f"linkage thresholds review={self.review} and match={self.match} "
                "must satisfy 0 < review < match <= 1"
            )


@dataclass(frozen=True)
class ScoredPair:
    """A pair of person records with the model's match probability."""

    record_a_id: int
    record_b_id: int
    match_probability: float
    match_weight: float


@dataclass
class LinkageOutcome:
    """Links found in one pass over the records, before clustering."""

    deterministic_edges: list[tuple[int, int]]
    scored_pairs: list[ScoredPair]
    model: dict[str, Any]
    trained: bool
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


# --- identifiers -----------------------------------------------------------

# Each scheme's validator returns the canonical form or raises InvalidIdentifier.
_VALIDATORS = {
    "uln": identifiers.validate_uln,
    "upn": identifiers.validate_upn,
    "ni_number": identifiers.validate_nino,
    "ucas_id": identifiers.validate_ucas_personal_id,
    "husid": identifiers.validate_husid,
}


def uln_check_digit(first_nine: str) -> int | None:
    """Compute the ULN check digit for nine digits, or None when none exists.

    The rule: weights 10 down to 2 over the nine digits, sum mod 11; a
    remainder of 0 has no valid check digit, otherwise the digit is 10 minus
    the remainder.
    """
    total = sum(
        int(digit) * weight
        for digit, weight in zip(first_nine, range(10, 1, -1), strict=True)
    )
    remainder = total % 11
    if remainder == 0:
        return None
    return 10 - remainder


def normalise_identifier(scheme: str, value: object) -> str | None:
    """Return the identifier in canonical form, or None if missing or invalid."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    # Providers write identifiers with spaces or hyphens between groups.
    text = re.sub(r"[\s-]", "", str(value))
    if not text:
        return None
    try:
        return _VALIDATORS[scheme](text)
    except identifiers.InvalidIdentifier:
        return None


# --- preparation -----------------------------------------------------------


@lru_cache(maxsize=1)
def _nicknamer() -> Any:
    from nicknames import NickNamer

    return NickNamer()


def given_name_aliases(name: object) -> list[str] | None:
    """Return the name and its canonical forms (``bob`` gives robert, bobby…)."""
    if not isinstance(name, str) or not name.strip():
        return None
    first = name.split()[0]
    cleaned = re.sub(r"[^a-z]", "", first.lower())
    if not cleaned:
        return None
    aliases = {cleaned, *_nicknamer().canonicals_of(cleaned)}
    return sorted(aliases)


# A UK postcode without its space: outward code, then digit and two letters.
UK_POSTCODE = "^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"

_PREPARE_SQL = """
create or replace table prepared_records as
with cleaned as (
    select
        id as record_id,
        source_ukprn,
        nullif(regexp_replace(lower(strip_accents(coalesce(given_name, ''))),
            '[^a-z]', '', 'g'), '') as given_name,
        nullif(regexp_replace(lower(strip_accents(coalesce(family_name, ''))),
            '[^a-z]', '', 'g'), '') as family_name,
        strftime(try_cast(date_of_birth as date), '%Y%m%d') as dob,
        nullif(upper(regexp_replace(coalesce(postcode, ''), '\\s', '', 'g')), '')
            as postcode_compact,
        nullif(lower(trim(coalesce(email, ''))), '') as email,
        uln, upn, ni_number, ucas_id, husid,
        given_aliases,
        nullif(trim(regexp_replace(lower(strip_accents(coalesce(address_line_1, ''))),
            '[^a-z0-9]+', ' ', 'g')), '') as address,
        nullif(trim(regexp_replace(lower(strip_accents(coalesce(locality, ''))),
            '[^a-z]+', ' ', 'g')), '') as locality,
        nullif(regexp_replace(lower(strip_accents(coalesce(region, ''))),
            '[^a-z]', '', 'g'), '') as region,
        nullif(upper(regexp_replace(coalesce(other_identifier, ''), '[\\s-]', '', 'g')),
            '') as other_id,
        nullif(lower(trim(coalesce(other_identifier_scheme, ''))), '')
            as other_id_scheme
    from raw_records
)
select
    record_id, source_ukprn, given_name, family_name, dob,
    substr(dob, 1, 4) as birth_year,
    case when regexp_matches(postcode_compact, '{UK_POSTCODE}')
        then postcode_compact[:-4] || ' ' || postcode_compact[-3:]
        else postcode_compact end as postcode,
    case when regexp_matches(postcode_compact, '{UK_POSTCODE}')
        then postcode_compact[:-4] end as postcode_outward,
    array_to_string(list_sort(string_split(postcode_compact, '')), '')
        as postcode_sorted,
    email, uln, upn, ni_number, ucas_id, husid, given_aliases,
    address,
    -- The first number of line 1 is usually the house number; a flat number
    -- written before it ("Flat 3, 12 High Street") is taken instead.
    nullif(regexp_extract(address, '[0-9]+'), '') as house_number,
    nullif(trim(regexp_replace(address, '[0-9]+ ?', '', 'g')), '') as street,
    locality, region,
    case when other_id_scheme is not null then other_id end as other_id,
    case when other_id is not null then other_id_scheme end as other_id_scheme,
    case when other_id is not null and other_id_scheme is not null
        then other_id_scheme || ':' || other_id end as other_id_key
from cleaned
""".replace("{UK_POSTCODE}", UK_POSTCODE)


def prepare_records(
    connection: duckdb.DuckDBPyConnection, records: pd.DataFrame
) -> int:
    """Load person records into DuckDB as ``prepared_records``; return the count.

    ``records`` carries the columns of :data:`RECORD_COLUMNS`; a column it
    lacks is treated as missing on every record. Identifiers that fail their
    scheme's check are treated as missing.
    """
    frame = records.reindex(columns=list(RECORD_COLUMNS))
    for scheme in IDENTIFIER_COLUMNS:
        frame[scheme] = frame[scheme].map(
            lambda value, s=scheme: normalise_identifier(s, value)
        )
    frame["given_aliases"] = frame["given_name"].map(given_name_aliases)
    frame["date_of_birth"] = pd.to_datetime(frame["date_of_birth"], errors="coerce")
    for column in RECORD_COLUMNS:
        if column not in ("id", "date_of_birth", *IDENTIFIER_COLUMNS):
            frame[column] = frame[column].astype("string")

    connection.register("raw_records", frame)
    connection.execute(_PREPARE_SQL)
    connection.unregister("raw_records")
    rows = connection.execute("select count(*) from prepared_records").fetchall()
    return int(rows[0][0])


def deterministic_edges(connection: duckdb.DuckDBPyConnection) -> list[tuple[int, int]]:
    """Return pairs of records that share a validated identifier.

    Each group of records sharing a value is chained to its lowest record id,
    which is enough for connected components.
    """
    parts = [
        f"select record_id, '{scheme}' as scheme, {scheme} as value "
        f"from prepared_records where {scheme} is not null"
        for scheme in IDENTIFIER_COLUMNS
    ]
    sql = f"""
        with ids as ({" union all ".join(parts)}),
        grouped as (
            select record_id, min(record_id) over (partition by scheme, value) as root
            from ids
        )
        select distinct least(root, record_id), greatest(root, record_id)
        from grouped where record_id <> root
        order by 1, 2
    """
    return [(int(a), int(b)) for a, b in connection.execute(sql).fetchall()]


def selected_backend() -> str:
    """Return the Splink backend named by ``JOHN_LINKAGE_BACKEND`` (default duckdb)."""
    backend = os.environ.get("JOHN_LINKAGE_BACKEND", "duckdb").strip().lower()
    if backend == "duckdb":
        return backend
    if backend == "spark":
        # TODO: build a SparkAPI from a SparkSession here; the Spark path is not
        # written yet, so a national-scale run cannot start from this module.
        raise ConfigurationError(
            "JOHN_LINKAGE_BACKEND=spark is not available in this version; "
            "unset it to use the embedded DuckDB backend"
        )
    raise ConfigurationError(f"JOHN_LINKAGE_BACKEND={backend!r} is invalid; use duckdb")


def _make_linker(connection: duckdb.DuckDBPyConnection, model: dict[str, Any]) -> Any:
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection=connection)
    records = db_api.register("prepared_records", dataset_display_name="person_records")
    return Linker(records, model, log_level=None)


def _score_against(
    records: pd.DataFrame,
    left_ids: Sequence[int],
    right_filter_sql: str,
    model: dict[str, Any],
) -> pd.DataFrame:
    """Score records ``left_ids`` against the prepared records the filter selects."""
    from splink import DuckDBAPI, Linker

    connection = duckdb.connect()
    try:
        prepare_records(connection, records)
        id_list = ", ".join(str(int(i)) for i in left_ids)
        connection.execute(
            "create table left_records as select * from prepared_records "
            f"where record_id in ({id_list})"
        )
        connection.execute(
            "create table right_records as select p.* "
            "from prepared_records p, left_records c "
            f"where p.record_id not in ({id_list}) and ({right_filter_sql})"
        )
        db_api = DuckDBAPI(connection=connection)
        everything = db_api.register("prepared_records", dataset_display_name="records")
        linker = Linker(everything, model, log_level=None)
        left = db_api.register("left_records")
        right = db_api.register("right_records")
        return linker.inference.score_pairs(left, right).as_pandas_dataframe()
    finally:
        connection.close()


def _field_weight(row: pd.Series, name: str) -> float:
    """Return a field's match weight, including its term frequency adjustment."""
    weight = float(row[f"mw_{name}"])
    adjustment = row.get(f"mw_tf_adj_{name}")
    if adjustment is not None and not pd.isna(adjustment):
        weight += float(adjustment)
    return weight


def _matched_fields(row: pd.Series) -> list[str]:
    """Name the claim's fields that support the match, as PersonRecord names them.

    A field supports the match when its match weight is positive; a matching
    identifier is named by its scheme (``uln``, ``ni_number``…).
    """
    fields: list[str] = []
    for name in COMPARED_FIELDS:
        if f"mw_{name}" not in row or _field_weight(row, name) <= 0:
            continue
        if name == "identifiers":
            fields += [
                scheme
                for scheme in IDENTIFIER_COLUMNS
                if pd.notna(row.get(f"{scheme}_l"))
                and row.get(f"{scheme}_l") == row.get(f"{scheme}_r")
            ]
        else:
            fields.append(_STORED_NAMES.get(name, name))
    return fields


# Comparison output names that differ from PersonRecord's column names.
_STORED_NAMES = {"dob": "date_of_birth", "address": "address_line_1"}


_CANDIDATE_FILTER = """
    p.dob = c.dob
    or (substr(p.dob, 1, 4) = substr(c.dob, 1, 4)
        and substr(p.dob, 5, 2) = substr(c.dob, 7, 2)
        and substr(p.dob, 7, 2) = substr(c.dob, 5, 2))
    or (p.given_name = c.given_name and p.family_name = c.family_name)
    or (p.family_name = c.family_name and p.birth_year = c.birth_year)
    or (p.family_name = c.family_name and p.postcode = c.postcode)
    or len(list_intersect(p.given_aliases, c.given_aliases)) > 0
        and p.birth_year = c.birth_year
    or p.uln = c.uln or p.upn = c.upn or p.ni_number = c.ni_number
    or p.ucas_id = c.ucas_id or p.husid = c.husid
"""


def score_claim(
    records: pd.DataFrame, claim: dict[str, Any], model: dict[str, Any]
) -> list[tuple[int, float, list[str]]]:
    """Score a claimed identity against stored records.

    ``claim`` has the keys of :data:`RECORD_COLUMNS` with ``id`` -1. Returns
    (record id, match probability, fields that support the match) for every
    stored record that shares a name, date of birth, postcode or identifier.
    """
    if records.empty:
        return []
    combined = pd.concat([records, pd.DataFrame([claim])], ignore_index=True)
    scored = _score_against(combined, [int(claim["id"])], _CANDIDATE_FILTER, model)
    results = []
    for _, row in scored.iterrows():
        claim_left = int(row["record_id_l"]) == int(claim["id"])
        other = row["record_id_r"] if claim_left else row["record_id_l"]
        probability = float(row["match_probability"])
        results.append((int(other), probability, _matched_fields(row)))
    return results


def explain_pair(
    records: pd.DataFrame, pair: pd.DataFrame, model: dict[str, Any]
) -> list[dict[str, Any]]:
    """Return, per compared field, the level label and match weight for a pair."""
    ids = [int(i) for i in pair["id"]]
    if len(ids) != 2:
        return []
    scored = _score_against(records, ids[:1], f"p.record_id = {ids[1]}", model)
    if scored.empty:
        return []
    row = scored.iloc[0]
    labels = {
        comparison["output_column_name"]: comparison["comparison_levels"]
        for comparison in model["comparisons"]
    }
    rows = []
    for name in COMPARED_FIELDS:
        if name not in labels:
            continue
        gamma = int(row[f"gamma_{name}"])
        levels = [level for level in labels[name] if not level.get("is_null_level")]
        label = "missing on one side"
        if gamma >= 0:
            # Splink numbers non-null levels from the last (0) to the first.
            label = levels[len(levels) - 1 - gamma].get("label_for_charts", "")
        weight = round(_field_weight(row, name), 2)
        rows.append({"field": name, "level": label, "match_weight": weight})
    rows.append(
        {
            "field": "overall",
            "level": "",
            "match_weight": round(float(row["match_weight"]), 2),
        }
    )
    return rows


def _train(linker: Any) -> list[str]:
    """Estimate lambda, u by random sampling and m by EM; return failure notes.

    A step that fails (too few pairs under a training rule) leaves the prior
    values in place, so the model is still usable.
    """
    from splink import block_on

    notes: list[str] = []
    settings = linker._settings_obj
    prior = settings._probability_two_random_records_match
    try:
        linker.training.estimate_probability_two_random_records_match(
            [block_on("given_name", "family_name", "dob")], recall=0.7
        )
    except (SplinkException, ValueError, ZeroDivisionError, duckdb.Error) as error:
        notes.append(f"prior match probability kept: {type(error).__name__}")
    # No agreeing pairs gives 0, which predict() cannot turn into a weight.
    if not 0.0 < settings._probability_two_random_records_match < 1.0:
        settings._probability_two_random_records_match = prior
        notes.append("prior match probability kept: no agreeing pairs")
    linker.training.estimate_u_using_random_sampling(
        max_pairs=RANDOM_SAMPLING_PAIRS,
        seed=TRAINING_SEED,
        min_count_per_level=None,
        num_chunks=1,
    )
    for rule in (block_on("dob"), block_on("given_name", "family_name")):
        # Splink 5.0.0 drops the comparisons on the rule's columns from the
        # linker's own settings when a session starts and puts them back only
        # when it succeeds, so a failed session would lose them for scoring.
        before = settings.core_model_settings.copy()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        except (SplinkException, ValueError, ZeroDivisionError, duckdb.Error) as error:
            settings.core_model_settings = before
            notes.append(f"EM session skipped: {type(error).__name__}")
    return notes


def link_records(
    records: pd.DataFrame,
    *,
    saved_model: dict[str, Any] | None = None,
    thresholds: Thresholds | None = None,
    new_record_ids: Collection[int] | None = None,
) -> LinkageOutcome:
    """Find deterministic links and score candidate pairs with Splink.

    The model is trained on ``records`` when there are at least
    :data:`MIN_TRAINING_RECORDS`; otherwise ``saved_model`` (or the prior
    model) is used as it is. With ``new_record_ids`` the run is incremental:
    nothing is trained, and only pairs with at least one of those records are
    scored, against every record. Only pairs at or above the review
    threshold are returned.
    """
    import time

    selected_backend()
    limits = thresholds or Thresholds()
    started = time.perf_counter()
    incremental = new_record_ids is not None
    connection = duckdb.connect()
    try:
        count = prepare_records(connection, records)
        edges = deterministic_edges(connection)
        if count < 2 or (incremental and not new_record_ids):
            model = saved_model or prior_model()
            return LinkageOutcome(edges, [], model, trained=False)

        train = count >= MIN_TRAINING_RECORDS and not incremental
        model = prior_model() if train else saved_model or prior_model()
        if new_record_ids is not None:
            _mark_new_records(connection, new_record_ids)
            linker = _make_linker(connection, _blocking_on_new_records(model))
        else:
            linker = _make_linker(connection, model)
        notes = _train(linker) if train else []
        predictions = linker.inference.predict(
            threshold_match_probability=limits.review, warning_mode="never"
        )
        frame = predictions.as_pandas_dataframe()
        if train:
            model = linker.misc.save_model_to_json()
    except (SplinkException, duckdb.Error) as error:
        # The library's message may quote row values, so only its type is kept.
        raise JohnError(
            f"record linkage failed in Splink or DuckDB ({type(error).__name__})"
        ) from None
    finally:
        connection.close()

    pairs = [
        ScoredPair(
            record_a_id=int(min(row.record_id_l, row.record_id_r)),
            record_b_id=int(max(row.record_id_l, row.record_id_r)),
            match_probability=float(row.match_probability),
            match_weight=float(row.match_weight),
        )
        for row in frame.itertuples(index=False)
    ]
    seconds = time.perf_counter() - started
    log.info(
        "linkage scored %d records: %d deterministic edges, "
        "%d pairs above %.2f in %.1f s",
        count,
        len(edges),
        len(pairs),
        limits.review,
        seconds,
    )
    return LinkageOutcome(
        edges, pairs, model, trained=train, seconds=seconds, notes=notes
    )


def _mark_new_records(
    connection: duckdb.DuckDBPyConnection, new_record_ids: Collection[int]
) -> None:
    """Add the ``is_new`` column to ``prepared_records``."""
    ids = pd.DataFrame({"record_id": sorted(int(i) for i in new_record_ids)})
    connection.register("new_record_ids", ids)
    connection.execute(
        "create or replace table prepared_records as "
        "select p.*, p.record_id in (select record_id from new_record_ids) as is_new "
        "from prepared_records p"
    )
    connection.unregister("new_record_ids")


def _blocking_on_new_records(model: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``model`` whose blocking rules need a new record in a pair.

    The join still runs over every record, but Splink compares only the pairs
    the rule keeps, which is where the time of a run goes.
    """
    restricted = copy.deepcopy(model)
    restricted["blocking_rules_to_generate_predictions"] = [
        {
            **rule,
            "blocking_rule": f"({rule['blocking_rule']}) AND (l.is_new OR r.is_new)",
        }
        for rule in model["blocking_rules_to_generate_predictions"]
    ]
    return restricted
