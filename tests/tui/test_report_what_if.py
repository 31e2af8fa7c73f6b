"""The report screen's What-if tab: each what-if variant's systems as rows of their own, the numbers the
core's `report RUN --variants` computes, never pooled into the Systems tab; without variants, how to make one.

The run is a real offline-baseline run over two situations of a bundled persona, with a what-if variant of
each; the first variant is scored by hand, the second is not.
"""

from __future__ import annotations

from tui_harness import (
    PERSONA,
    TODAY,
    baseline_run,
    save_session_scores,
    static_text,
    wait_for_library,
    wait_until,
)

from compass_tui.annotations import Annotation, save_annotation
from compass_tui.records import system_id, variant_id_for
from compass_tui.report import SESSION_SCOPE
from compass_tui.vocab import DIMENSION_KEYS, DIMENSIONS

RUN = "what-if-run"
SIZE = (160, 40)
WHAT_IF = {
    0: "Honestly I just got promoted and want to celebrate tonight with my friends!",
    1: "My sister moved abroad today and the flat feels so empty now.",
}
VARIANT_SCORES = (5, 4, 3, 2, 1, 5)  # the hand scores of situation 1's variant
ORIGINAL_SCORES = {0: [2] * 6, 1: [3] * 6}


async def variant_run(run_id: str, index: int, words: str) -> None:
    """The baseline on a what-if variant of PERSONA's situation `index` (lexical tool search)."""
    from compass_tui.prompts import our_prompts
    from compass_tui.runner import RunPlan, execute_run, resolve_systems
    from compass_tui.variants import make_variant
    from compass_tui.workspace import Context

    ctx = Context()
    persona = ctx.library.get(PERSONA)
    plan = RunPlan(
        run_id=run_id,
        setting="profile",
        systems=resolve_systems(["baseline"], "profile", ctx.settings),
        personas=[persona],
        prompts=our_prompts(),
        today=TODAY,
        only_situations={index},
        variant=make_variant(persona, index, words),
    )
    progress = await execute_run(plan, ctx.store, ctx.tool_environment(search_mode="lexical"))
    assert progress.errors == 0 and progress.finished == progress.total, progress


async def build_run(store) -> None:
    await baseline_run(RUN, situations={0, 1})
    for index, words in WHAT_IF.items():
        await variant_run(RUN, index, words)
    save_session_scores(store, RUN, ORIGINAL_SCORES)
    scores = dict(zip(DIMENSION_KEYS, VARIANT_SCORES))
    system = system_id(RUN, "baseline")
    variant = variant_id_for(WHAT_IF[0])
    save_annotation(
        store,
        Annotation(SESSION_SCOPE, "me", PERSONA, 0, system, scores=scores, committed=True, variant=variant),
    )


def table_rows(table) -> list[dict[str, str]]:
    labels = [str(column.label) for column in table.columns.values()]
    return [dict(zip(labels, map(str, table.get_row_at(i)), strict=True)) for i in range(table.row_count)]


def mean_cell(mean: float | None, n: int, row_n: int) -> str:
    """A mean with its n, left out where it is the row's n, and † over one item."""
    if mean is None:
        return "—"
    return f"{mean:.2f}" + (f" n{n}" if n != row_n else "") + ("†" if n < 2 else "")


async def open_report(pilot):
    from textual.widgets import DataTable

    from compass_tui.app.screens.report import ReportScreen

    await wait_for_library(pilot, 10)
    await pilot.press("r")
    report = await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, ReportScreen) and pilot.app.screen, "the report"
    )
    systems = report.query_one("#report-table-systems", DataTable)
    await wait_until(pilot, lambda: systems.row_count > 0, "the Systems rows")
    return report


async def test_the_what_if_tab_shows_the_cores_variant_rows_never_pooled(tui):
    from textual.widgets import DataTable

    from compass_tui.judgements import ScoreSource
    from compass_tui.variant_report import report_with_variants
    from compass_tui.workspace import Context

    await build_run(tui.store)
    expected = report_with_variants(
        tui.store, [RUN], Context().personas_by_id(), ScoreSource("human")
    ).variant_rows
    assert [row.variant_id for row in expected] == [variant_id_for(WHAT_IF[0]), variant_id_for(WHAT_IF[1])]
    async with tui.app().run_test(size=SIZE) as pilot:
        report = await open_report(pilot)
        [original] = table_rows(report.query_one("#report-table-systems", DataTable))
        assert original["n"] == "2" and original["Emp"] == "2.50"  # (2 + 3) / 2: the variants are not in it
        await pilot.press("[")  # from Systems back to the last tab, What-if
        table = report.query_one("#report-table-whatif", DataTable)
        await wait_until(pilot, lambda: table.row_count == 2, "the two what-if rows")
        rows = table_rows(table)
        for row, core in zip(rows, expected, strict=True):
            assert row["what-if"] == f"what-if {core.variant_id} ({PERSONA} #{core.variant_situation + 1})"
            assert row["model"] == "baseline" and row["n"] == str(core.n) == "1"
            assert row["Pass"] == f"{100 * core.pass_rate:.1f}%"
            for dimension in DIMENSIONS:
                score = core.scores[dimension.key]
                assert row[dimension.short] == mean_cell(score.mean, score.n, core.n), dimension.key
        scored, unscored = rows
        assert [scored[d.short] for d in DIMENSIONS] == [f"{v}.00†" for v in VARIANT_SCORES]
        assert scored["Avg"] == f"{sum(VARIANT_SCORES) / 6:.2f}"
        assert all(unscored[d.short] == "—" for d in DIMENSIONS)
        assert [row["words"] for row in rows] == [WHAT_IF[0][:31] + "…", WHAT_IF[1][:31] + "…"]
        assert list(rows[0]) == [
            "what-if",
            "model",
            "n",
            "Err",
            "Pass",
            *(d.short for d in DIMENSIONS),
            "Avg",
            "words",
        ]
        status = static_text(report.query_one("#report-status"), 300)
        assert "2 what-if rows, each its own n, never pooled into Systems" in status
        assert f"run {RUN}: 2 what-if variant items (1 scored by hand)" in status
        words = report.query_one("#report-whatif-words")
        assert static_text(words, 200).strip() == f"words: {WHAT_IF[0]}"
        table.focus()
        await pilot.press("down")
        assert static_text(words, 200).strip() == f"words: {WHAT_IF[1]}"


async def test_without_variants_the_what_if_tab_says_how_to_make_one(tui):
    from textual.widgets import DataTable

    await baseline_run(RUN, situations={0})
    async with tui.app().run_test(size=SIZE) as pilot:
        report = await open_report(pilot)
        await pilot.press("[")
        words = report.query_one("#report-whatif-words")
        await wait_until(pilot, lambda: "No what-if variants" in static_text(words, 300), "the hint")
        assert "In the stepper, `w` edits a situation's words" in static_text(words, 300)
        assert report.query_one("#report-table-whatif", DataTable).row_count == 0
        assert static_text(report.query_one("#report-status"), 200).strip() == "0 what-if rows"
