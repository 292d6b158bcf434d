"""Link synthetic UK learner records through JOHN and through Splink alone.

Run with no arguments: ``PYTHONPATH=src python benchmarks/linkage_uk.py``.
The records come from :mod:`john.identity.synthetic` (fixed seed): invented
people with nicknames, family names changed on marriage, swapped day and
month of birth, typing errors, missing or mistyped ULNs and NI numbers, and
house moves. Scores are pairwise over the final clusters.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import pandas as pd
from linkage_common import (
    learner_pairs,
    pairs_from_groups,
    score,
    store_records,
    temporary_store,
    timed,
)

from john.identity import service
from john.identity.linkage import Thresholds
from john.identity.synthetic import generate_people

PEOPLE = 5000
SEED = 2026
THRESHOLD = Thresholds().match


def person_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Map generated records to person record rows."""
    rows = []
    for index, record in enumerate(records):
        row = {key: value for key, value in record.items() if key != "person_key"}
        row["feed_id"] = f"uk-{record['source_ukprn']}"
        row["row_number"] = index + 1
        rows.append(row)
    return rows


def true_pairs(records: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Return pairs of source refs that belong to the same invented person."""
    groups: dict[int, list[str]] = defaultdict(list)
    for record in records:
        groups[record["person_key"]].append(_ref(record))
    return pairs_from_groups(groups.values())


def _ref(record: dict[str, Any]) -> str:
    return str(record["source_person_ref"])


def run_john(records: list[dict[str, Any]]) -> tuple[set[tuple[str, str]], float]:
    """Store the records and run JOHN's linkage; return pairs and seconds."""
    with temporary_store() as factory:
        store_records(factory, person_rows(records))
        _, seconds = timed(lambda: service.run_linkage(factory))
        return learner_pairs(factory), seconds


def run_splink(records: list[dict[str, Any]]) -> tuple[set[tuple[str, str]], float]:
    """Deduplicate with Splink alone and a standard person model."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frame = pd.DataFrame(records).drop(columns=["person_key"])
    frame["unique_id"] = frame["source_person_ref"]
    frame["date_of_birth"] = frame["date_of_birth"].map(lambda d: d.isoformat())
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("family_name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y-%m-%d"
            ),
            cl.PostcodeComparison("postcode"),
            cl.EmailComparison("email"),
            cl.ExactMatch("uln"),
            cl.ExactMatch("ni_number"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "family_name"),
            block_on("date_of_birth"),
            block_on("postcode"),
            block_on("email"),
            block_on("uln"),
        ],
    )

    def link() -> set[tuple[str, str]]:
        db_api = DuckDBAPI()
        table = db_api.register(frame, dataset_display_name="people")
        linker = Linker(table, settings, log_level=None)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("given_name", "family_name", "date_of_birth")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth")
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("given_name", "family_name")
        )
        predictions = linker.inference.predict(threshold_match_probability=0.5)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=THRESHOLD
        ).as_pandas_dataframe()
        groups = clusters.groupby("cluster_id")["unique_id"].apply(list)
        return pairs_from_groups(groups)

    return timed(link)


def main() -> None:
    """Run both linkages and print the scores, the last line machine-readable."""
    logging.disable(logging.WARNING)
    records = generate_people(PEOPLE, seed=SEED)
    truth = true_pairs(records)

    john_pairs, john_seconds = run_john(records)
    john = score(john_pairs, truth)
    splink_pairs, splink_seconds = run_splink(records)
    splink = score(splink_pairs, truth)

    print(f"people: {PEOPLE}; records: {len(records)}; true pairs: {len(truth)}")
    print(
        f"f1={john.f1:.4f} precision={john.precision:.4f} recall={john.recall:.4f} "
        f"seconds={john_seconds:.2f} splink_f1={splink.f1:.4f} "
        f"splink_precision={splink.precision:.4f} splink_recall={splink.recall:.4f} "
        f"splink_seconds={splink_seconds:.2f}"
    )


if __name__ == "__main__":
    main()
