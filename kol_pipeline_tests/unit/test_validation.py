"""Table validation suites (kol_pipeline.lib.quality.validation): hand-built frames with known defects."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kol_pipeline.lib.quality.validation import (
    BLOCKING,
    SUITES,
    WARN,
    ValidationSettings,
    summarize_quarantine,
    validate_table,
)

DAY = dt.date(2025, 3, 12)
CATS = ["skincare", "beauty", "food"]
REPO = Path(__file__).resolve().parents[2]


def _ts(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True, format="ISO8601"))


def notes_frame() -> pd.DataFrame:
    """Four clean notes of one day (list columns included, as the cleaned table has them)."""
    likes = pd.array([10, 0, 250, 3], dtype="Int64")
    saves = pd.array([2, 0, 40, 1], dtype="Int64")
    comments = pd.array([1, 0, 12, 0], dtype="Int64")
    shares = pd.array([0, 0, 5, 0], dtype="Int64")
    return pd.DataFrame(
        {
            "note_id": ["n1", "n2", "n3", "n4"],
            "user_id": ["u1", "u1", "u2", "u3"],
            "nickname": ["a", "a", "b", "c"],
            "note_type": ["normal", "video", "normal", "video"],
            "title": ["面霜", "早餐", "口红", "无"],
            "description": ["", "", "", ""],
            "tags": [["面霜", "护肤"], [], ["口红"], []],
            "published_at": _ts("2025-03-01 02:00", "2025-03-10 02:00", "2025-03-11", "2025-03-12 01:00"),
            "crawled_at": _ts("2025-03-12 03:00", "2025-03-12 03:00", "2025-03-12 04:00", "2025-03-12 05:00"),
            "likes": likes,
            "saves": saves,
            "comments": comments,
            "shares": shares,
            "engagements": likes + saves + comments + shares,
            "category": ["skincare", "food", "beauty", None],
            "brands": [["BrandA"], [], ["BrandB", "BrandA"], []],
            "is_disclosed": [True, False, False, False],
            "source_file": ["search_contents_2025-03-12.json"] * 4,
            "snapshot_date": [DAY] * 4,
        }
    )


def creators_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3"],
            "nickname": ["a", "b", "c"],
            "gender": ["女", "男", None],
            "followers": pd.array([9_999, 10_000, 2_000_000], dtype="Int64"),
            "following": pd.array([10, 20, 30], dtype="Int64"),
            "likes_and_saves_total": pd.array([100, 5_000, None], dtype="Int64"),
            "tier": ["nano", "micro", "top"],
            "crawled_at": _ts("2025-03-12 03:00", "2025-03-12 03:00", "2025-03-12 03:00"),
            "source_file": ["creator_creator_2025-03-12.json"] * 3,
            "snapshot_date": [DAY] * 3,
        }
    )


def comments_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "comment_id": ["c1", "c2", "c3"],
            "note_id": ["n1", "n1", "n3"],
            "user_id": ["x", "y", "z"],
            "parent_comment_id": [None, "c1", None],
            "content": ["求链接", "沙发", "我用了两周"],
            "created_at": _ts("2025-03-11", "2025-03-11", "2025-03-12"),
            "like_count": pd.array([3, 0, 1], dtype="Int64"),
            "sub_comment_count": pd.array([1, 0, 0], dtype="Int64"),
            "comment_class": ["purchase_intent", "low_effort", "experience"],
            "is_substantive": [True, False, True],
            "crawled_at": _ts("2025-03-12 03:00", "2025-03-12 03:00", "2025-03-12 03:00"),
            "source_file": ["search_comments_2025-03-12.json"] * 3,
            "sentiment": ["neutral", "neutral", "neutral"],
            "snapshot_date": [DAY] * 3,
        }
    )


def gx_outcomes(report):
    return [r for r in report.results if not r.expectation_type.startswith("rule:")]


# ------------------------------------------------------------------------------------------------ notes


def test_clean_notes_pass_every_expectation():
    report = validate_table("notes", notes_frame(), allowed_categories=CATS, previous_row_count=4)
    assert report.passed
    assert report.blocking_failures == [] and report.warnings == []
    assert report.row_count == 4
    names = [r.name for r in report.results]
    assert names[:3] == ["required_columns_present", "unique_note_id_snapshot_date", "note_id_not_null"]
    # every GX expectation of the suite ran (none skipped), on 4 rows, with 0 unexpected
    gx = gx_outcomes(report)
    assert [r.name for r in gx] == [d.name for d in SUITES["notes"]]
    assert all(r.success and r.unexpected_count == 0 and "skipped" not in r.observed for r in gx)
    assert report.outcome("note_id_not_null").observed["element_count"] == 4


def test_input_frame_is_not_modified():
    df = notes_frame()
    before = df.copy()
    validate_table("notes", df, allowed_categories=CATS)
    assert list(df.columns) == list(before.columns)
    pd.testing.assert_frame_equal(df, before)


def test_duplicated_key_is_blocking_and_lists_the_ids():
    df = pd.concat([notes_frame(), notes_frame().iloc[[2]]], ignore_index=True)
    report = validate_table("notes", df, allowed_categories=CATS)
    assert not report.passed
    out = report.outcome("unique_note_id_snapshot_date")
    assert out.severity == BLOCKING and not out.success
    assert out.columns == ("note_id", "snapshot_date")
    assert out.unexpected_count == 2  # both rows of the duplicated key
    assert any("note_id=n3" in v for v in out.unexpected_values)
    assert not any("n1" in v or "n2" in v for v in out.unexpected_values)
    assert [r.name for r in report.blocking_failures] == ["unique_note_id_snapshot_date"]


def test_same_note_on_two_days_is_not_a_duplicate():
    df = pd.concat([notes_frame(), notes_frame().assign(snapshot_date=DAY + dt.timedelta(days=1))], ignore_index=True)
    assert validate_table("notes", df, allowed_categories=CATS).passed


def test_null_key_is_blocking():
    df = notes_frame()
    df.loc[1, "note_id"] = None
    report = validate_table("notes", df, allowed_categories=CATS)
    out = report.outcome("note_id_not_null")
    assert not report.passed and not out.success
    assert out.severity == BLOCKING and out.unexpected_count == 1


def test_negative_count_warns_with_its_count():
    df = notes_frame()
    df["likes"] = pd.array([10, -5, -7, 3], dtype="Int64")
    df["engagements"] = df["likes"] + df["saves"] + df["comments"] + df["shares"]
    report = validate_table("notes", df, allowed_categories=CATS)
    assert report.passed  # a warning does not block
    out = report.outcome("likes_non_negative")
    assert (out.severity, out.success, out.unexpected_count) == (WARN, False, 2)
    assert sorted(out.unexpected_values) == ["-5", "-7"]
    # n2's engagements become -5 + 0 + 0 + 0 = -5 as well
    assert [r.name for r in report.warnings] == ["likes_non_negative", "engagements_non_negative"]
    assert report.outcome("engagements_non_negative").unexpected_values == ["-5"]


def test_null_counts_are_ignored_by_range_checks():
    df = notes_frame()
    df["shares"] = pd.array([0, None, 5, 0], dtype="Int64")
    df["engagements"] = pd.array([13, None, 307, 4], dtype="Int64")
    report = validate_table("notes", df, allowed_categories=CATS)
    assert report.passed and report.warnings == []


def test_engagements_not_equal_to_sum_warns():
    df = notes_frame()
    df.loc[0, "engagements"] = 99  # 10 + 2 + 1 + 0 = 13
    report = validate_table("notes", df, allowed_categories=CATS)
    out = report.outcome("engagements_equals_sum")
    assert report.passed
    assert (out.severity, out.success, out.unexpected_count) == (WARN, False, 1)
    assert out.unexpected_values == ["(99, 13)"]


def test_new_category_and_unknown_note_type_warn():
    df = notes_frame()
    df.loc[3, "category"] = "pets"
    df.loc[0, "note_type"] = "live"
    report = validate_table("notes", df, allowed_categories=CATS)
    cat = report.outcome("category_in_categories")
    assert (cat.severity, cat.success, cat.unexpected_count, cat.unexpected_values) == (WARN, False, 1, ["pets"])
    nt = report.outcome("note_type_allowed")
    assert (nt.success, nt.unexpected_values) == (False, ["live"])
    assert report.passed


def test_category_check_skipped_without_a_category_list():
    df = notes_frame()
    df.loc[3, "category"] = "pets"
    out = validate_table("notes", df).outcome("category_in_categories")
    assert out.success and out.observed == {"skipped": "no allowed_categories given"}


def test_published_after_crawled_warns():
    df = notes_frame()
    df.loc[2, "published_at"] = pd.Timestamp("2025-03-13", tz="UTC")
    out = validate_table("notes", df, allowed_categories=CATS).outcome("published_before_crawled")
    assert (out.success, out.unexpected_count) == (False, 1)
    assert out.unexpected_values == ["(2025-03-12 04:00:00, 2025-03-13 00:00:00)"]


def test_missing_column_is_blocking():
    df = notes_frame().drop(columns=["shares"])
    report = validate_table("notes", df, allowed_categories=CATS)
    req = report.outcome("required_columns_present")
    assert not req.success and req.unexpected_values == ["shares"]
    assert not report.outcome("shares_non_negative").success
    assert not report.outcome("engagements_equals_sum").success  # its helper needs shares
    assert report.outcome("likes_non_negative").success  # the rest still ran


# ------------------------------------------------------------------------------------------------ creators, comments


def test_creators_clean_pass_and_unknown_tier_warns():
    assert validate_table("creators", creators_frame()).passed
    assert validate_table("creators", creators_frame()).warnings == []
    df = creators_frame()
    df.loc[1, "tier"] = "celebrity"
    report = validate_table("creators", df)
    tier = report.outcome("tier_allowed")
    assert (tier.severity, tier.success, tier.unexpected_count, tier.unexpected_values) == (
        WARN,
        False,
        1,
        ["celebrity"],
    )
    assert not report.outcome("tier_matches_followers").success
    assert report.passed


def test_tier_not_matching_followers_warns_and_follows_the_bounds():
    df = creators_frame()
    df.loc[0, "tier"] = "micro"  # 9,999 followers is nano with the default bounds
    out = validate_table("creators", df).outcome("tier_matches_followers")
    assert (out.success, out.unexpected_values) == (False, ["(micro, nano)"])
    # with micro from 5,000 the same row is consistent, but 10,000 is then still micro and 2M top
    custom = ValidationSettings(tier_bounds=(5_000, 100_000, 500_000, 1_000_000))
    assert validate_table("creators", df, settings=custom).outcome("tier_matches_followers").success


def test_comments_unknown_class_and_inconsistent_substantive_warn():
    assert validate_table("comments", comments_frame()).warnings == []
    df = comments_frame()
    df.loc[0, "comment_class"] = "spam"
    df.loc[1, "is_substantive"] = True  # low_effort is never substantive
    report = validate_table("comments", df)
    cls = report.outcome("comment_class_allowed")
    assert (cls.success, cls.unexpected_values) == (False, ["spam"])
    subst = report.outcome("is_substantive_consistent")
    assert (subst.success, subst.unexpected_count) == (False, 1)
    assert report.passed


# ------------------------------------------------------------------------------------------------ table-level rules


def test_empty_partition_after_rows_is_blocking():
    empty = notes_frame().iloc[:0]
    report = validate_table("notes", empty, previous_row_count=120, allowed_categories=CATS)
    assert not report.passed
    assert [r.name for r in report.blocking_failures] == ["not_empty_after_rows"]
    assert report.outcome("not_empty_after_rows").observed == {"rows": 0, "previous_rows": 120}
    # GX did not run on the empty frame: every expectation is reported as skipped
    assert all(r.observed.get("skipped") == "empty frame" for r in gx_outcomes(report))


def test_empty_partition_without_history_passes():
    from kol_pipeline.lib.schemas import NOTES

    assert validate_table("notes", NOTES.empty_frame()).passed
    assert validate_table("notes", NOTES.empty_frame(), previous_row_count=0).passed


@pytest.mark.parametrize(
    ("previous", "rows", "warns"),
    [(100, 160, True), (100, 40, True), (100, 150, False), (100, 60, False), (100, 140, False), (0, 10, False)],
)
def test_row_count_change(previous, rows, warns):
    df = pd.concat([notes_frame()] * (rows // 4 + 1), ignore_index=True).iloc[:rows]
    df["note_id"] = [f"n{i}" for i in range(rows)]
    report = validate_table("notes", df, previous_row_count=previous, allowed_categories=CATS)
    out = report.outcome("row_count_change")
    assert out.severity == WARN
    assert out.success is (not warns)
    assert report.passed
    if previous:
        assert out.observed["change"] == pytest.approx((rows - previous) / previous)


def test_row_count_rules_absent_without_previous_count():
    names = [r.name for r in validate_table("notes", notes_frame()).results]
    assert "row_count_change" not in names and "not_empty_after_rows" not in names


def test_quarantine_share_blocks_with_enough_rows_read():
    report = validate_table("notes", notes_frame(), rows_read=200, rows_quarantined=12, allowed_categories=CATS)
    out = report.outcome("quarantine_share")
    assert (out.severity, out.success, out.unexpected_count) == (BLOCKING, False, 12)
    assert out.observed["share"] == pytest.approx(0.06)
    assert not report.passed


def test_quarantine_share_only_warns_on_few_rows_read():
    report = validate_table("notes", notes_frame(), rows_read=50, rows_quarantined=3, allowed_categories=CATS)
    out = report.outcome("quarantine_share")
    assert (out.severity, out.success) == (WARN, False)
    assert report.passed and [r.name for r in report.warnings] == ["quarantine_share"]


def test_quarantine_share_at_the_limit_passes_and_settings_apply():
    assert (
        validate_table("notes", notes_frame(), rows_read=200, rows_quarantined=10).outcome("quarantine_share").success
    )
    strict = ValidationSettings(max_quarantine_share=0.01, min_rows_for_quarantine_block=10)
    out = validate_table("notes", notes_frame(), rows_read=50, rows_quarantined=1, settings=strict).outcome(
        "quarantine_share"
    )
    assert (out.severity, out.success) == (BLOCKING, False)  # 2 % > 1 %, 50 rows >= 10


# ------------------------------------------------------------------------------------------------ other tables


def _brand_frames() -> dict[str, pd.DataFrame]:
    d = dt.date(2025, 3, 1)
    return {
        "brands": pd.DataFrame(
            {
                "brand": ["BrandA", "BrandB"],
                "aliases": [["A牌"], []],
                "category": ["skincare", "beauty"],
                "control_keyword": ["面霜", None],
            }
        ),
        "campaigns": pd.DataFrame(
            {
                "campaign_id": ["c1", "c2"],
                "brand": ["BrandA", "BrandB"],
                "phase": ["launch", "sustain"],
                "start_date": [d, d],
                "end_date": [d + dt.timedelta(days=30), d],
                "target_keywords": [["面霜"], []],
                "budget_cny": [100000.0, None],
            }
        ),
        "campaign_posts": pd.DataFrame(
            {
                "campaign_id": ["c1", "c1"],
                "note_id": ["n1", "n3"],
                "user_id": ["u1", "u2"],
                "fee_cny": [5000.0, 800.0],
                "posted_date": [d, d],
                "note_known": [True, False],
            }
        ),
        "search_index": pd.DataFrame(
            {
                "date": [d, d, d + dt.timedelta(days=1)],
                "keyword": ["BrandA", "面霜", "BrandA"],
                "search_index": [120.0, 80.0, 0.0],
            }
        ),
        "rate_card": pd.DataFrame(
            {"user_id": ["u1", "u2"], "image_price_cny": [3000.0, None], "video_price_cny": [5000.0, 900.0]}
        ),
        "store_traffic": pd.DataFrame({"date": [d, d], "brand": ["BrandA", "BrandB"], "store_visits": [10.0, 0.0]}),
        "search_rankings": pd.DataFrame(
            {
                "keyword": ["面霜", "面霜", "口红"],
                "rank": pd.array([1, 2, 1], dtype="Int64"),
                "note_id": ["n1", "n9", "n3"],
                "source_file": ["brand/search_rankings_2025-03-12.csv"] * 3,
                "snapshot_date": [DAY] * 3,
            }
        ),
        "quarantine": pd.DataFrame(
            {
                "source": ["notes", "comments"],
                "source_file": ["a.json", "b.json"],
                "record_number": pd.array([3, 0], dtype="Int64"),
                "reason": ["bad liked_count", "unreadable file"],
                "raw": ["{}", ""],
                "snapshot_date": [DAY, DAY],
            }
        ),
        "brand_quarantine": pd.DataFrame(
            {
                "source": ["campaign_posts"],
                "source_file": ["brand/campaign_posts.csv"],
                "record_number": [7],
                "reason": ["fee_cny not a number"],
                "raw": ['{"fee_cny": "abc"}'],
            }
        ),
    }


@pytest.mark.parametrize("table", sorted(_brand_frames()))
def test_other_tables_clean_pass(table):
    report = validate_table(table, _brand_frames()[table], allowed_categories=CATS)
    assert report.passed and report.warnings == [], report.to_markdown()
    assert len(gx_outcomes(report)) == len(SUITES[table])


def test_campaign_duplicate_id_blocks_and_reversed_dates_warn():
    df = _brand_frames()["campaigns"]
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    df.loc[1, "end_date"] = df.loc[1, "start_date"] - dt.timedelta(days=1)
    report = validate_table("campaigns", df)
    assert [r.name for r in report.blocking_failures] == ["unique_campaign_id"]
    assert report.outcome("unique_campaign_id").unexpected_values == ["c1"]
    assert [r.name for r in report.warnings] == ["start_before_end"]


def test_negative_fee_and_rank_zero_warn():
    posts = _brand_frames()["campaign_posts"]
    posts.loc[1, "fee_cny"] = -800.0
    out = validate_table("campaign_posts", posts).outcome("fee_cny_non_negative")
    assert (out.success, out.unexpected_values) == (False, ["-800"])
    ranks = _brand_frames()["search_rankings"]
    ranks["rank"] = pd.array([0, 2, 1], dtype="Int64")
    assert not validate_table("search_rankings", ranks).outcome("rank_at_least_1").success


def test_unknown_table_raises():
    with pytest.raises(KeyError):
        validate_table("nope", notes_frame())


# ------------------------------------------------------------------------------------------------ report output


def test_markdown_lists_every_expectation_and_rule():
    df = notes_frame()
    df.loc[0, "engagements"] = 99
    report = validate_table(
        "notes", df, previous_row_count=4, rows_read=10, rows_quarantined=0, allowed_categories=CATS
    )
    md = report.to_markdown()
    for r in report.results:
        assert f"| {r.name} |" in md
    for d in SUITES["notes"]:
        assert d.name in md
    assert "| engagements_equals_sum | expect_column_pair_values_to_be_equal |" in md
    assert "(99, 13)" in md
    assert md.count("\n| ") == len(report.results) + 2  # header, separator, one row each


def test_to_dict_is_json_serializable():
    df = pd.concat([notes_frame(), notes_frame().iloc[[0]]], ignore_index=True)
    d = validate_table("notes", df, previous_row_count=1, allowed_categories=CATS).to_dict()
    text = json.dumps(d)
    back = json.loads(text)
    assert back["table"] == "notes" and back["passed"] is False and back["blocking_failures"] == 1
    assert back["warnings"] == 1  # row count 5 vs 1 (+400 %)
    first = next(r for r in back["results"] if r["name"] == "unique_note_id_snapshot_date")
    assert first["unexpected_count"] == 2 and first["columns"] == ["note_id", "snapshot_date"]


def test_data_docs_written_when_asked(tmp_path):
    validate_table("notes", notes_frame(), allowed_categories=CATS, settings=ValidationSettings(docs_dir=tmp_path))
    assert (tmp_path / "index.html").exists()
    assert list(tmp_path.glob("validations/**/*.html"))


# ------------------------------------------------------------------------------------------------ quarantine summary


def test_summarize_quarantine_counts_per_day_source_reason():
    d2 = DAY + dt.timedelta(days=1)
    q = pd.DataFrame(
        {
            "source": ["notes", "notes", "notes", "comments", "notes"],
            "source_file": ["a.json", "b.json", "a.json", "c.json", "a.json"],
            "record_number": [1, 2, 3, 4, 5],
            "reason": ["bad count", "bad count", "no note_id", "no note_id", "bad count"],
            "raw": ["{}"] * 5,
            "snapshot_date": [DAY, DAY, DAY, DAY, d2],
        }
    )
    s = summarize_quarantine(q)
    assert list(s.columns) == ["snapshot_date", "source", "reason", "rows", "files"]
    assert s.to_dict("records") == [
        {"snapshot_date": DAY, "source": "notes", "reason": "bad count", "rows": 2, "files": 2},
        {"snapshot_date": DAY, "source": "comments", "reason": "no note_id", "rows": 1, "files": 1},
        {"snapshot_date": DAY, "source": "notes", "reason": "no note_id", "rows": 1, "files": 1},
        {"snapshot_date": d2, "source": "notes", "reason": "bad count", "rows": 1, "files": 1},
    ]
    empty = summarize_quarantine(q.iloc[:0])
    assert empty.empty and list(empty.columns) == ["snapshot_date", "source", "reason", "rows", "files"]


# ------------------------------------------------------------------------------------------------ docs and lazy import


def test_docs_list_every_suite_and_expectation():
    text = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    for table, defs in SUITES.items():
        assert f"### `{table}`" in text
        for d in defs:
            assert f"| `{d.name}` | `{d.expectation_type}` |" in text and d.severity in text


def test_module_import_does_not_import_great_expectations():
    code = (
        "import sys, kol_pipeline.lib.quality.validation as v; "
        "print(any(m == 'great_expectations' or m.startswith('great_expectations.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


def test_list_columns_look_past_leading_nulls() -> None:
    """An object column is a list column when its first non-null value is a list, however many nulls come first
    (the look-up goes chunk by chunk); all-null and string columns are not."""
    import numpy as np

    from kol_pipeline.lib.quality.validation import first_non_null, list_columns

    n = 10_000
    lists = np.full(n, None, dtype=object)
    lists[9_000] = ["a", "b"]
    lists[:5] = np.nan
    strings = np.full(n, None, dtype=object)
    strings[4_097] = "x"
    frame = pd.DataFrame(
        {"late_list": lists, "strings": strings, "nothing": np.full(n, None, dtype=object), "numbers": np.arange(n)}
    )
    assert list_columns(frame, "not_a_table") == ["late_list"]
    assert first_non_null(strings) == "x" and first_non_null(lists) == ["a", "b"]
    assert first_non_null(np.full(3, None, dtype=object)) is None
    assert first_non_null(np.empty(0, dtype=object)) is None


def _frames_holding(note_id: str) -> int:
    import gc

    gc.collect()
    found = 0
    for obj in gc.get_objects():
        if isinstance(obj, pd.DataFrame) and "note_id" in obj.columns and (obj["note_id"] == note_id).any():
            found += 1
    return found


def test_validated_frames_are_not_kept_after_validation():
    """GX's execution engine kept the last validated batch of each table (a copy of the frame) until the table's
    next validation, for the life of the process: at 1M note rows the ingest step's tables stayed in memory for the
    whole run. Nothing may hold a validated frame once validate_table returns."""
    df = notes_frame()
    df.loc[0, "note_id"] = "probe-kept-after-validation"
    report = validate_table("notes", df, allowed_categories=CATS)
    assert report.outcome("note_id_not_null").observed["element_count"] == 4  # GX did validate it
    assert _frames_holding("probe-kept-after-validation") == 1  # our own frame
    del df
    assert _frames_holding("probe-kept-after-validation") == 0


def test_comments_on_uncrawled_notes_and_its_rule():
    """A comment's note counts as crawled when the run holds it on the comment's day or before, or `known_before`
    (the warehouse) does; `known_before` is asked once, only for the ids the run lacks. Arrow and object text."""
    from datetime import date

    from kol_pipeline.lib.quality import validation as val
    from kol_pipeline.lib.schemas import TEXT

    d1, d2 = date(2025, 7, 1), date(2025, 7, 2)
    for dtype in (TEXT, object):
        notes = pd.DataFrame({"note_id": pd.Series(["a", "b"], dtype=dtype), "snapshot_date": [d1, d2]})
        comments = pd.DataFrame(
            {
                "note_id": pd.Series(["a", "a", "b", "b", "old", "z", None, "z"], dtype=dtype),
                "snapshot_date": [d1, d2, d1, d2, d2, d2, d2, d1],
            }
        )
        asked: list[set[str]] = []

        def lookup(ids: set[str]) -> set[str]:
            asked.append(set(ids))
            return ids & {"old", "other"}

        out = val.comments_on_uncrawled_notes(comments, notes, lookup)
        assert asked == [{"b", "old", "z"}]  # b: first crawled on d2, after the comment of d1
        assert sorted(zip(out["note_id"], out["snapshot_date"])) == [("b", d1), ("z", d1), ("z", d2)]
        r = val.note_crawled_rule(out)
        assert (r.success, r.severity, r.unexpected_count, r.unexpected_values) == (False, val.WARN, 3, ["b", "z"])
        assert r.observed == {"comments": 3, "notes": 2, "by_day": {"2025-07-01": 2, "2025-07-02": 1}}
    # comments only on the run's own notes: nothing is asked, the rule passes
    asked.clear()
    none = val.comments_on_uncrawled_notes(comments.iloc[:2], notes, lookup)
    assert asked == [] and len(none) == 0 and val.note_crawled_rule(none).success
    # no notes at all, no lookup: every comment with a note id counts
    assert len(val.comments_on_uncrawled_notes(comments, notes.iloc[:0])) == 7
