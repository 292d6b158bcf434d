"""The Splink model of person records: comparisons, blocking rules, prior values.

Every comparison reads the columns that ``linkage.prepare_records`` builds in
DuckDB (``given_name``, ``dob``, ``postcode_sorted``, ``house_number``…), not
the stored columns. The m and u values written here are priors: a run over
enough records replaces them by training (see ``linkage._train``).
"""

from __future__ import annotations

from typing import Any

IDENTIFIER_COLUMNS = ("uln", "upn", "ni_number", "ucas_id", "husid")

# Output names of the comparisons, in the order that staff pages and claim
# checks list fields.
COMPARED_FIELDS = (
    "given_name",
    "family_name",
    "dob",
    "postcode",
    "email",
    "identifiers",
    "address",
    "locality",
    "other_identifier",
)


def _name_levels(column: str, other: str, *, nickname: bool) -> list[Any]:
    import splink.comparison_level_library as cll

    levels: list[Any] = [
        cll.NullLevel(column),
        cll.ExactMatchLevel(column, term_frequency_adjustments=True).configure(
            m_probability=0.80, u_probability=0.004
        ),
        cll.CustomLevel(
            f'"{column}_l" = "{other}_r" and "{other}_l" = "{column}_r"',
            label_for_charts="Given and family names swapped",
        ).configure(m_probability=0.02, u_probability=0.00001),
        cll.CustomLevel(
            f'jaro_winkler_similarity("{column}_l", "{other}_r") >= 0.9 '
            f'and jaro_winkler_similarity("{other}_l", "{column}_r") >= 0.9',
            label_for_charts="Names swapped, with a typing error",
        ).configure(m_probability=0.01, u_probability=0.00001),
    ]
    if nickname:
        levels.append(
            cll.CustomLevel(
                'list_has_any("given_aliases_l", "given_aliases_r")',
                "Nickname or canonical form shared",
                "duckdb",
            ).configure(m_probability=0.05, u_probability=0.002)
        )
    levels += [
        cll.JaroWinklerLevel(column, 0.92).configure(
            m_probability=0.06, u_probability=0.003
        ),
        cll.JaroWinklerLevel(column, 0.80).configure(
            m_probability=0.03, u_probability=0.03
        ),
        cll.ElseLevel().configure(m_probability=0.04, u_probability=0.96),
    ]
    return levels


def _comparisons() -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    swapped_dob = (
        'substr("dob_l", 1, 4) = substr("dob_r", 1, 4) '
        'and substr("dob_l", 5, 2) = substr("dob_r", 7, 2) '
        'and substr("dob_l", 7, 2) = substr("dob_r", 5, 2)'
    )
    any_identifier_equal = " or ".join(f'"{c}_l" = "{c}_r"' for c in IDENTIFIER_COLUMNS)
    any_identifier_differs = " or ".join(
        f'("{c}_l" <> "{c}_r")' for c in IDENTIFIER_COLUMNS
    )
    return [
        cl.CustomComparison(
            _name_levels("given_name", "family_name", nickname=True),
            output_column_name="given_name",
        ),
        cl.CustomComparison(
            _name_levels("family_name", "given_name", nickname=False),
            output_column_name="family_name",
        ),
        cl.CustomComparison(
            [
                cll.NullLevel("dob"),
                cll.ExactMatchLevel("dob").configure(
                    m_probability=0.88, u_probability=0.0001
                ),
                cll.CustomLevel(
                    swapped_dob, label_for_charts="Day and month swapped"
                ).configure(m_probability=0.02, u_probability=0.00001),
                # Hamming distance suits the fixed YYYYMMDD form and is far
                # cheaper in DuckDB 2 than Damerau-Levenshtein.
                cll.CustomLevel(
                    'hamming("dob_l", "dob_r") <= 1', "One digit differs", "duckdb"
                ).configure(m_probability=0.06, u_probability=0.002),
                cll.CustomLevel(
                    'hamming("dob_l", "dob_r") <= 2', "Two digits differ", "duckdb"
                ).configure(m_probability=0.02, u_probability=0.03),
                cll.ElseLevel().configure(m_probability=0.02, u_probability=0.97),
            ],
            output_column_name="dob",
        ),
        cl.CustomComparison(
            [
                cll.NullLevel("postcode"),
                cll.ExactMatchLevel(
                    "postcode", term_frequency_adjustments=True
                ).configure(m_probability=0.75, u_probability=0.001),
                cll.LevenshteinLevel("postcode", 1).configure(
                    m_probability=0.08, u_probability=0.005
                ),
                cll.ExactMatchLevel("postcode_sorted").configure(
                    label_for_charts="Same characters in another order",
                    m_probability=0.03,
                    u_probability=0.001,
                ),
                cll.ExactMatchLevel("postcode_outward").configure(
                    label_for_charts="Same outward code",
                    m_probability=0.07,
                    u_probability=0.01,
                ),
                cll.ElseLevel().configure(m_probability=0.10, u_probability=0.984),
            ],
            output_column_name="postcode",
        ),
        cl.CustomComparison(
            [
                cll.NullLevel("email"),
                cll.ExactMatchLevel("email").configure(
                    m_probability=0.80, u_probability=0.0001
                ),
                cll.JaroWinklerLevel("email", 0.88).configure(
                    m_probability=0.08, u_probability=0.002
                ),
                cll.ElseLevel().configure(m_probability=0.12, u_probability=0.9979),
            ],
            output_column_name="email",
        ),
        cl.CustomComparison(
            [
                cll.CustomLevel(
                    any_identifier_equal, "An identifier matches"
                ).configure(m_probability=0.90, u_probability=0.000001),
                cll.CustomLevel(any_identifier_differs, "Identifiers differ").configure(
                    m_probability=0.10, u_probability=0.999999
                ),
                cll.ElseLevel().configure(
                    is_null_level=True, label_for_charts="No identifier in common"
                ),
            ],
            output_column_name="identifiers",
        ),
        *_address_comparisons(),
    ]


def _address_comparisons() -> list[Any]:
    """Compare address line 1, locality with region, and the other identifier."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    same_scheme = '"other_id_scheme_l" = "other_id_scheme_r"'
    return [
        cl.CustomComparison(
            [
                cll.NullLevel("address"),
                cll.ExactMatchLevel("address").configure(
                    m_probability=0.70, u_probability=0.0002
                ),
                cll.CustomLevel(
                    '"house_number_l" = "house_number_r" '
                    'and jaro_winkler_similarity("street_l", "street_r") >= 0.88',
                    "Same house number, street within a typing error",
                ).configure(m_probability=0.12, u_probability=0.00005),
                cll.JaroWinklerLevel("street", 0.9).configure(
                    label_for_charts="Street within a typing error",
                    m_probability=0.08,
                    u_probability=0.002,
                ),
                cll.ExactMatchLevel("house_number").configure(
                    label_for_charts="Same house number only",
                    m_probability=0.03,
                    u_probability=0.03,
                ),
                cll.ElseLevel().configure(m_probability=0.07, u_probability=0.968),
            ],
            output_column_name="address",
        ),
        cl.CustomComparison(
            [
                cll.NullLevel("locality"),
                cll.ExactMatchLevel(
                    "locality", term_frequency_adjustments=True
                ).configure(m_probability=0.80, u_probability=0.002),
                cll.JaroWinklerLevel("locality", 0.9).configure(
                    m_probability=0.10, u_probability=0.002
                ),
                cll.ExactMatchLevel("region").configure(
                    label_for_charts="Same region only",
                    m_probability=0.05,
                    u_probability=0.15,
                ),
                cll.ElseLevel().configure(m_probability=0.05, u_probability=0.846),
            ],
            output_column_name="locality",
        ),
        cl.CustomComparison(
            [
                # Identifiers of different schemes are not comparable, so such a
                # pair counts as missing.
                cll.CustomLevel(
                    '"other_id_l" is null or "other_id_r" is null '
                    f"or not ({same_scheme})",
                    "No identifier of one scheme on both sides",
                ).configure(is_null_level=True),
                cll.ExactMatchLevel("other_id").configure(
                    m_probability=0.85, u_probability=0.000001
                ),
                cll.LevenshteinLevel("other_id", 1).configure(
                    label_for_charts="One character differs",
                    m_probability=0.08,
                    u_probability=0.0001,
                ),
                cll.LevenshteinLevel("other_id", 2).configure(
                    label_for_charts="Two characters differ",
                    m_probability=0.04,
                    u_probability=0.002,
                ),
                cll.ElseLevel().configure(m_probability=0.03, u_probability=0.9979),
            ],
            output_column_name="other_identifier",
        ),
    ]


def blocking_rules() -> list[Any]:
    """Return the rules that choose candidate pairs; each is a recall path."""
    from splink import block_on

    return [
        block_on("dob"),
        block_on("given_name", "family_name"),
        block_on("given_name", "birth_year"),
        block_on("family_name", "birth_year"),
        # Sorted characters also catch postcodes with two characters swapped.
        block_on("given_name", "postcode_sorted"),
        block_on("family_name", "postcode_sorted"),
        block_on("email"),
        block_on("other_id_key"),
        block_on("house_number", "street"),
        block_on("house_number", "postcode"),
    ]


def prior_model() -> dict[str, Any]:
    """Build the untrained model: JOHN's comparisons with prior m and u values."""
    from splink import SettingsCreator

    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        probability_two_random_records_match=0.0002,
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["source_ukprn"],
    )
    return settings.create_settings_dict("duckdb")


def has_current_comparisons(model: dict[str, Any]) -> bool:
    """Return whether a saved model compares the fields of :data:`COMPARED_FIELDS`.

    A model saved before a comparison was added lacks it, so it would ignore
    that field while scoring.
    """
    names = [
        comparison.get("output_column_name")
        for comparison in model.get("comparisons", [])
    ]
    return names == list(COMPARED_FIELDS)
