"""Blind, balanced human-evaluation studies, as in the ComPASS paper's human study.

A study draws items, (persona, situation) pairs with a finished response in every compared system,
and has every annotator rate every item's responses (fully crossed), under blinded ids in balanced
positions. Annotators work in the shared data dir (scope `study:<name>`) or on a self-contained pack
file whose append-only journal `merge` brings into the store. `agreement` compares the human mean
with the LLM judge and measures agreement among humans; `tables` moves scores through tidy CSV.

    models     the design and the pack as typed values, read from and written to their JSON
    design     names and paths, drawing and balancing items
    packs      the pack an annotator takes away
    journal    the pack's fsynced score journal
    merge      journals into the store; progress
    agreement  human-judge and inter-annotator statistics (formulas in compass_tui.statistics)
    tables     CSV export and import
    triage     units ranked by human-judge gap and by annotator spread; one item as its owner sees it
"""

from compass_tui.study.agreement import (
    agreement,
)
from compass_tui.study.design import (
    CSV_HEADERS,
    JOURNAL_SUFFIX,
    LONG_COLUMNS,
    STRATIFY_FIELDS,
    TOOL_CALL_FIELDS,
    TOOL_RESULT_FIELDS,
    UNKNOWN,
    WIDE_COLUMNS,
    create_study,
    default_pack_path,
    journal_path,
    largest_remainder,
    latin_row,
    list_studies,
    load_study,
    pack_file_name,
    study_path,
    study_scope,
)
from compass_tui.study.journal import (
    PackScores,
    annotation_item,
    append_pack_score,
    check_scores,
    check_timestamp,
    last_per_key,
    read_journal,
    read_pack_journal,
    read_pack_scores,
)
from compass_tui.study.merge import (
    MergeReport,
    apply_annotations,
    merge,
    missing_items,
    progress,
    study_annotations,
)
from compass_tui.study.models import (
    PACK_FORMAT,
    STUDY_FORMAT,
    Assignment,
    DesignItem,
    PackItem,
    PackResponse,
    StudyDesign,
    StudyPack,
)
from compass_tui.study.packs import (
    load_pack,
    pack_for_journal,
    write_pack,
)
from compass_tui.study.tables import (
    export,
    import_csv,
)
from compass_tui.study.triage import (
    StudyItem,
    StudyItemSystem,
    study_disagreements,
    study_item,
)

__all__ = [
    "Assignment",
    "PackItem",
    "PackResponse",
    "StudyDesign",
    "DesignItem",
    "StudyPack",
    "pack_file_name",
    "CSV_HEADERS",
    "JOURNAL_SUFFIX",
    "LONG_COLUMNS",
    "MergeReport",
    "PackScores",
    "StudyItem",
    "StudyItemSystem",
    "PACK_FORMAT",
    "STRATIFY_FIELDS",
    "STUDY_FORMAT",
    "TOOL_CALL_FIELDS",
    "TOOL_RESULT_FIELDS",
    "UNKNOWN",
    "WIDE_COLUMNS",
    "agreement",
    "annotation_item",
    "append_pack_score",
    "apply_annotations",
    "check_scores",
    "check_timestamp",
    "create_study",
    "default_pack_path",
    "export",
    "import_csv",
    "journal_path",
    "largest_remainder",
    "last_per_key",
    "latin_row",
    "list_studies",
    "load_pack",
    "load_study",
    "merge",
    "missing_items",
    "pack_for_journal",
    "progress",
    "read_journal",
    "read_pack_journal",
    "read_pack_scores",
    "study_annotations",
    "study_disagreements",
    "study_item",
    "study_path",
    "study_scope",
    "write_pack",
]
