"""`compass-tui study ...`: blind human-evaluation studies (create, pack, merge, agreement, export, import)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from compass_tui import study
from compass_tui.cli.output import console, emit, print_table, safe
from compass_tui.cli.triage_view import show_triage
from compass_tui.judgements import stale_note
from compass_tui.triage import check_top
from compass_tui.vocab import DIMENSIONS
from compass_tui.wording import counted
from compass_tui.workspace import Context


def add_parser(commands) -> None:
    parser = commands.add_parser("study", help="blind, balanced human-evaluation studies")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    create = sub.add_parser("create", help="draw items, blind the systems and balance positions")
    create.add_argument("name")
    create.add_argument(
        "--runs", required=True, help="comma-separated run ids; every (run, model) is one system"
    )
    create.add_argument("--sample", required=True, type=int, help="how many items to draw")
    create.add_argument("--annotators", required=True, help="comma-separated annotator names")
    create.add_argument(
        "--stratify",
        default="scenario",
        help="comma-separated: scenario, emotion, persona (default scenario; '' for none)",
    )
    create.add_argument("--seed", type=int, default=0)
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(handler=create_study)

    pack = sub.add_parser("pack", help="write one annotator's self-contained, blinded pack file")
    pack.add_argument("name")
    pack.add_argument("--annotator", required=True)
    pack.add_argument("--out", type=Path, help="a file or directory (default: the study's packs/ folder)")
    pack.set_defaults(handler=write_pack)

    merge = sub.add_parser(
        "merge", help="bring annotators' pack scores (*.scores.jsonl or packs) into the store"
    )
    merge.add_argument("name")
    merge.add_argument("files", nargs="+", type=Path)
    merge.add_argument("--json", action="store_true", help="print JSON")
    merge.set_defaults(handler=merge_scores)

    agreement = sub.add_parser(
        "agreement", help="human vs judge correlation, inter-annotator agreement, progress"
    )
    agreement.add_argument("name")
    agreement.add_argument(
        "--judge-model", help="the judge to compare with (needed when several judged the study's items)"
    )
    agreement.add_argument(
        "--judge-prompt", help="which judge prompt: ours, official or a hash prefix (needed when several)"
    )
    agreement.add_argument("--json", action="store_true", help="print JSON")
    agreement.set_defaults(handler=show_agreement)

    disagreements = sub.add_parser(
        "disagreements", help="units ranked by |human mean - judge| and by the spread among annotators"
    )
    disagreements.add_argument("name")
    disagreements.add_argument("--dimension", help="rank on one dimension (default: the mean over all six)")
    disagreements.add_argument("--top", type=int, help="show the first N of each ranking")
    disagreements.add_argument("--judge-model", help="the judge to compare with (needed when several)")
    disagreements.add_argument("--judge-prompt", help="which judge prompt: ours, official or a hash prefix")
    disagreements.add_argument("--reveal", action="store_true", help="also name each unit's real system")
    disagreements.add_argument("--json", action="store_true", help="print JSON (both rankings)")
    disagreements.set_defaults(handler=show_disagreements)

    export = sub.add_parser("export", help="write the scores as tidy CSV")
    export.add_argument("name")
    export.add_argument("--format", dest="fmt", choices=("long", "wide"), required=True)
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(handler=export_csv)

    importing = sub.add_parser("import-csv", help="read a long or wide CSV export back into the store")
    importing.add_argument("name")
    importing.add_argument("file", type=Path)
    importing.add_argument("--json", action="store_true", help="print JSON")
    importing.set_defaults(handler=import_csv)

    listing = sub.add_parser("list", help="list studies")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_studies)

    show = sub.add_parser("show", help="show a study's design and progress (blinded unless --reveal)")
    show.add_argument("name")
    show.add_argument("--reveal", action="store_true", help="also show which system each blinded id is")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_study)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def create_study(args, ctx: Context) -> int:
    design = study.create_study(
        ctx.store,
        args.name,
        _names(args.runs),
        args.sample,
        _names(args.annotators),
        stratify=_names(args.stratify),
        seed=args.seed,
    )
    summary = {
        "name": design.name,
        "path": str(study.study_path(ctx.store, args.name)),
        "items": len(design.items),
        "systems": len(design.blinded_ids),
        "annotators": design.annotators,
        "strata": [asdict(stratum) for stratum in design.strata],
        "warnings": design.warnings,
    }

    def render(data):
        console.print(
            f"Created study [bold]{data['name']}[/]: {data['items']} items x {data['systems']} systems, "
            f"annotators {', '.join(data['annotators'])} ({data['path']})"
        )
        _print_strata(data["strata"])
        for warning in data["warnings"]:
            console.print(f"[yellow]note:[/] {warning}")

    emit(args, summary, render)
    return 0


def _print_strata(strata: list[dict]) -> None:
    if strata and strata[0]["values"]:
        columns = list(strata[0]["values"])
        print_table(
            "Strata",
            [*columns, "available", "drawn"],
            [(*s["values"].values(), s["available"], s["drawn"]) for s in strata],
        )


def write_pack(args, ctx: Context) -> int:
    dest = args.out or study.default_pack_path(ctx.store, args.name, args.annotator)
    path = study.write_pack(ctx.store, args.name, args.annotator, dest)
    console.print(
        f"Wrote {path}; the annotator's scores will be saved beside it in {study.journal_path(path).name}"
    )
    return 0


def merge_scores(args, ctx: Context) -> int:
    report = study.merge(ctx.store, args.name, args.files)
    emit(args, report.as_dict(), lambda _: _render_report(report))
    return 0


def _render_report(report: study.MergeReport) -> None:
    console.print(
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.conflicts)} conflicts"
    )
    if report.conflicts:
        print_table(
            "Conflicts (the newer record is kept)",
            ["annotator", "item", "system", "kept", "stored", "incoming"],
            [
                (
                    c["annotator"],
                    c["item_id"],
                    c["system"],
                    c["kept"],
                    _scores_text(c["stored"]),
                    _scores_text(c["incoming"]),
                )
                for c in report.conflicts
            ],
        )
    waiting = {annotator: items for annotator, items in report.missing.items() if items}
    for annotator, items in waiting.items():
        console.print(f"{annotator}: {counted(len(items), 'item')} not finished")


def _scores_text(version: dict) -> str:
    scores = " ".join(
        "-" if version["scores"].get(d.key) is None else str(version["scores"][d.key]) for d in DIMENSIONS
    )
    return f"{scores} @ {version['updated_at']}"


def show_agreement(args, ctx: Context) -> int:
    result = study.agreement(ctx.store, args.name, args.judge_model, args.judge_prompt)
    emit(args, result, _render_agreement)
    return 0


def show_disagreements(args, ctx: Context) -> int:
    check_top(args.top)
    triage = study.study_disagreements(
        ctx.store, args.name, args.dimension, args.judge_model, args.judge_prompt, reveal=args.reveal
    )
    show_triage(triage, args.top, args.json)
    return 0


def _fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _fmt_correlation(value: dict | None) -> str:
    if not value or value.get("r") is None:
        return "-"
    if not value.get("ci"):
        return f"{value['r']:.2f}"
    low, high = value["ci"]
    return f"{value['r']:.2f} [{_fmt(low)}, {_fmt(high)}]"


def _render_agreement(result: dict) -> None:
    judge = f"{result['judge_model']} · {result['judge_prompt']}" if result["judge_model"] else "none"
    console.print(
        f"Study [bold]{result['study']}[/]: {result['units']} units (item x system), judge: {judge}",
        highlight=False,
    )
    stale = stale_note(result["judge_stale"])
    for note in (stale, result["merge_note"], result["rubric_note"], result["judge_note"]):
        if note:
            console.print(f"[yellow]note:[/] {safe(note)}")
    judged, among = [], []
    for dimension in DIMENSIONS:
        stats = result["dimensions"][dimension.key]
        judged.append(
            (
                dimension.short,
                stats["judged_units"],
                _fmt(stats["human_mean"]),
                _fmt(stats["judge_mean"]),
                _fmt_correlation(stats["pearson"]),
                _fmt_correlation(stats["spearman"]),
            )
        )
        among.append(
            (
                dimension.short,
                stats["rated_units"],
                _fmt(stats["alpha_ordinal"]),
                _fmt(stats["alpha_interval"]),
                _fmt(stats["icc2_k"]),
                stats["icc_units"],
                *_position_cells(stats["position"]),
            )
        )
    print_table(
        "Human mean vs judge (95% bootstrap CIs)",
        ["dim", "units", "human", "judge", "Pearson r", "Spearman rho"],
        judged,
    )
    if result.get("overall"):
        _print_overall(result["overall"])
    print_table(
        "Among annotators",
        ["dim", "units", "alpha ord", "alpha int", "ICC(2,k)", "ICC units", "mean by position", "position p"],
        among,
    )
    print_table(
        "Progress",
        ["annotator", "rated", "items done", "mean s/item"],
        [
            (
                name,
                f"{p['rated']}/{p['assigned']}",
                f"{p['items_done']}/{p['items_assigned']}",
                _fmt(p["mean_seconds_per_item"], 1),
            )
            for name, p in result["progress"].items()
        ],
    )


def _print_overall(overall: dict) -> None:
    pooled, mean = overall["pooled"], overall["mean_of_dimensions"]
    print_table(
        f"Overall human mean vs judge across all six dimensions ({overall['units']} units; "
        "95% bootstrap CIs resample units)",
        ["reading", "n", "Pearson r", "Spearman rho"],
        [
            (
                pooled["label"],
                f"{pooled['pearson']['n']} pairs",
                _fmt_correlation(pooled["pearson"]),
                _fmt_correlation(pooled["spearman"]),
            ),
            (
                mean["label"],
                f"{mean['pearson']['dimensions']} dimensions",
                _fmt_correlation(mean["pearson"]),
                _fmt_correlation(mean["spearman"]),
            ),
        ],
    )


def _position_cells(position: dict) -> tuple[str, str]:
    means = " ".join(_fmt(value) for value in position["means"].values())
    test = f" ({position['test']})" if position["test"] else ""
    return means, _fmt(position["p"], 3) + test


def export_csv(args, ctx: Context) -> int:
    rows = study.export(ctx.store, args.name, args.fmt, args.out)
    console.print(f"Wrote {counted(rows, 'row')} ({args.fmt}) to {args.out}")
    return 0


def import_csv(args, ctx: Context) -> int:
    report = study.import_csv(ctx.store, args.name, args.file)
    emit(args, report.as_dict(), lambda _: _render_report(report))
    return 0


def list_studies(args, ctx: Context) -> int:
    summaries = [_summary(ctx, name) for name in study.list_studies(ctx.store)]

    def render(rows):
        print_table(
            counted(len(rows), "study", "studies"),
            ["name", "created", "items", "systems", "annotators", "rated"],
            [
                (
                    r["name"],
                    r["created_at"],
                    r["items"],
                    r["systems"],
                    ", ".join(r["annotators"]),
                    f"{r['rated']}/{r['assigned']}",
                )
                for r in rows
            ],
        )

    emit(args, summaries, render)
    return 0


def _summary(ctx: Context, name: str) -> dict:
    design = study.load_study(ctx.store, name)
    progress = study.progress(design, study.study_annotations(ctx.store, design))
    return {
        "name": name,
        "created_at": design.created_at,
        "items": len(design.items),
        "systems": len(design.blinded_ids),
        "annotators": design.annotators,
        "rated": sum(p["rated"] for p in progress.values()),
        "assigned": sum(p["assigned"] for p in progress.values()),
    }


def show_study(args, ctx: Context) -> int:
    design = study.load_study(ctx.store, args.name)
    data = design.public_document(reveal=args.reveal)
    data["progress"] = study.progress(design, study.study_annotations(ctx.store, design))
    emit(args, data, _render_study)
    return 0


def _render_study(data: dict) -> None:
    console.print(
        f"Study [bold]{data['name']}[/] created {data['created_at']}, seed {data['seed']}, "
        f"rubric {data['rubric_version']}"
    )
    console.print(
        f"Runs: {', '.join(data['runs'])}; stratified by {', '.join(data['stratify']) or 'nothing'}; "
        f"{len(data['items'])} items x {len(data['blinded_ids'])} systems ({', '.join(data['blinded_ids'])})"
    )
    if "systems" in data:
        print_table(
            "Blinding (revealed)",
            ["blinded id", "system"],
            [(blinded, data["systems"][blinded]) for blinded in data["blinded_ids"]],
        )
    _print_strata(data["strata"])
    print_table(
        "Progress",
        ["annotator", "rated", "items done"],
        [
            (name, f"{p['rated']}/{p['assigned']}", f"{p['items_done']}/{p['items_assigned']}")
            for name, p in data["progress"].items()
        ],
    )
    for warning in data.get("warnings", []):
        console.print(f"[yellow]note:[/] {warning}")
