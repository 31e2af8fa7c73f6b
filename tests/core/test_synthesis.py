"""Persona synthesis against the loopback StubLLM through real litellm: stages, retries, resume, duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synthesis_support import FIRST_NAMES, SHARED_BACKGROUND, SynthBot, valid_answer

from compass_tui.config import ModelConfig
from compass_tui.errors import InputError
from compass_tui.library import PersonaLibrary
from compass_tui.llm import accepts_seed
from compass_tui.persona import load_persona_file
from compass_tui.store import Store
from compass_tui.synthesis import (
    DEFAULT_MIX,
    JOB_TABLE,
    STAGES,
    STAGES_TABLE,
    STATE_TABLE,
    SynthesisPlan,
    background_parts,
    job_path,
    near_duplicates,
    parse_mix,
    persona_path,
    synthesise,
)
from compass_tui.tools.embeddings import Embedder, EmbeddingUnavailable
from compass_tui.vocab import EMOTIONS
from tools.stub_llm import StubLLM, error, text

NO_MODEL = "/nonexistent-embedding-model"


class Stop(Exception):
    pass


def plan_for(stub: StubLLM, count: int = 2, seed: int = 0, mix: dict | None = None) -> SynthesisPlan:
    model = ModelConfig(model="openai/synth-a", api_base=stub.base_url, timeout=10)
    return SynthesisPlan("synth", model, count=count, seed=seed, mix=mix or dict(DEFAULT_MIX))


async def run(plan: SynthesisPlan, data_dir: Path, **options):
    library = PersonaLibrary(data_dir, bundled_dir=data_dir / "no-bundled")
    options.setdefault("embedder", Embedder(NO_MODEL))
    return await synthesise(plan, Store(data_dir), library, max_retries=0, **options), library


async def test_a_synthesis_stopped_between_stages_resumes_without_asking_finished_stages_again(
    synth_stub, synth_bot, tmp_path
):
    plan = plan_for(synth_stub)

    def stop_after_background_of_the_second(event) -> None:
        if event.kind == "stage_done" and event.index == 2 and event.stage == "background":
            raise Stop

    with pytest.raises(Stop):
        await run(plan, tmp_path, on_progress=stop_after_background_of_the_second)
    first, second = FIRST_NAMES[:2]
    assert synth_bot.requests_for(first) == dict.fromkeys(STAGES, 1)
    assert synth_bot.requests_for(second) == dict.fromkeys(STAGES[:4], 1)
    saved = Store(tmp_path).all(persona_path(plan.job, 2), STAGES_TABLE)
    assert [doc["key"] for doc in saved] == list(STAGES[:4])

    synth_bot.asked.clear()
    result, library = await run(plan, tmp_path)

    assert synth_bot.requests_for(first) == {}
    assert synth_bot.requests_for(second) == dict.fromkeys(STAGES[4:], 1)
    assert result.requests == 3
    assert len(result.already) == 1 and len(result.written) == 1 and result.failed == []
    persona = library.get(result.written[0])
    assert persona.demographic.firstname == second
    assert persona.background.hobbies == valid_answer("background", second)["hobbies"]
    assert len(persona.situations) == 15
    assert {s.scenario_type for s in persona.situations} == set(DEFAULT_MIX)
    assert persona.situations[14].utterance == f"{second} says thing 15."
    assert persona.origin is not None
    assert (persona.origin.source, persona.origin.model, persona.origin.seed) == ("synthesised", "synth", 0)
    assert persona.origin.job == plan.job == "synth-s0-n2"
    assert library.get_entry(persona.id).kind == "authored"
    assert load_persona_file(tmp_path / "personas" / f"{persona.id}.json") == persona


async def test_an_invalid_stage_is_retried_with_its_error_then_recorded_with_the_last_answer(
    synth_stub, synth_bot, tmp_path
):
    first, second = FIRST_NAMES[:2]
    wrong_level = {**valid_answer("big_five", first), "openness": "very high"}
    last = json.dumps({**valid_answer("big_five", first), "charm": "high"})
    synth_bot.fail(
        first, "big_five", text("I would say she is open."), text(json.dumps(wrong_level)), text(last)
    )
    plan = plan_for(synth_stub)

    result, library = await run(plan, tmp_path)

    asked = [body for name, stage, body in synth_bot.bodies if (name, stage) == (first, "big_five")]
    assert len(asked) == 3
    assert "not valid JSON" in asked[1]["messages"][-1]["content"]
    assert asked[1]["messages"][-2] == {"role": "assistant", "content": "I would say she is open."}
    assert "openness: Input should be 'low', 'medium' or 'high'" in asked[2]["messages"][-1]["content"]
    assert len(result.failed) == 1
    failure = result.failed[0]
    assert (failure.index, failure.stage, failure.last_output) == (1, "big_five", last)
    assert "charm: unknown field" in failure.reason
    state = Store(tmp_path).get(persona_path(plan.job, 1), STATE_TABLE, "state")
    assert state is not None and state["status"] == "failed" and state["last_output"] == last
    assert len(state["answers"]) == 3
    assert synth_bot.requests_for(first) == {"demographic": 1, "big_five": 3}
    assert synth_bot.requests_for(second) == dict.fromkeys(STAGES, 1)
    assert [library.get(pid).demographic.firstname for pid in result.written] == [second]

    synth_bot.asked.clear()
    again, library = await run(plan, tmp_path)
    assert synth_bot.requests_for(first) == dict.fromkeys(STAGES[1:], 1)
    assert again.failed == [] and len(again.written) == 1 and len(again.already) == 1


async def test_a_scenario_mix_is_enforced_and_the_error_names_the_counts(tmp_path):
    mix = parse_mix("work_study=7,health=2,family=2,social=2,leisure=2")
    bot = SynthBot()  # answers the benchmark's mix, three of each
    with StubLLM(bot) as stub:
        result, _ = await run(plan_for(stub, count=1, mix=mix), tmp_path)
    assert result.failed[0].stage == "scenarios"
    assert "work_study=3" in result.failed[0].reason and "work_study=7" in result.failed[0].reason
    assert bot.requests_for(FIRST_NAMES[0])["scenarios"] == 3


async def test_emotions_outside_the_31_are_refused(synth_stub, synth_bot, tmp_path):
    answer = valid_answer("scenarios", FIRST_NAMES[0])
    answer["situations"][4]["emotion"] = "envious"  # an alias the importer reads, not one of the 31
    synth_bot.fail(FIRST_NAMES[0], "scenarios", text(json.dumps(answer)))
    await run(plan_for(synth_stub, count=1), tmp_path)
    retry = [body for name, stage, body in synth_bot.bodies if stage == "scenarios"][1]
    assert "situations[4].emotion" in retry["messages"][-1]["content"]
    assert "envious" not in EMOTIONS


async def test_near_identical_backgrounds_are_reported_as_a_pair_with_their_similarity(tmp_path):
    with StubLLM(SynthBot(same_background=True)) as stub:
        result, _ = await run(plan_for(stub), tmp_path)
    report = result.duplicates
    assert report is not None and report.mode == "lexical" and report.threshold == 0.80
    assert report.compared == 2
    assert [sorted((pair.first, pair.second)) for pair in report.pairs] == [sorted(result.written)]
    assert report.pairs[0].similarity > 0.99


async def test_distinct_backgrounds_are_not_reported(synth_stub, tmp_path):
    result, _ = await run(plan_for(synth_stub), tmp_path)
    assert result.duplicates is not None and result.duplicates.pairs == []
    assert "TF-IDF" in result.duplicates.detail


def test_near_duplicates_compare_new_backgrounds_with_the_library_not_the_library_with_itself():
    bundled = PersonaLibrary(Path("/nonexistent")).entries()
    texts = {entry.id: background_parts(entry.persona) for entry in bundled if entry.persona}
    shared = list(SHARED_BACKGROUND.values())
    texts["old"] = shared
    texts["new"] = [part.replace("dog", "puppy").replace("son", "daughter") for part in shared]
    texts["other"] = list(valid_answer("background", FIRST_NAMES[0]).values())

    report = near_duplicates(texts, {"new", "other"}, None)

    assert report.compared == len(bundled) + 3
    assert [(pair.first, pair.second) for pair in report.pairs] == [("old", "new")]
    assert 0.8 <= report.pairs[0].similarity < 1
    assert near_duplicates(texts, {"other"}, None).pairs == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("work_study=3,health=3,family=3,social=3", "add up to 12"),
        ("3,3,3,3", "five counts"),
        ("work=3,health=3,family=3,social=3,leisure=3", "'work' is not a scenario type"),
        ("work_study=x,health=3,family=3,social=3,leisure=6", "not a count"),
    ],
)
def test_a_bad_scenario_mix_is_named(text, message):
    with pytest.raises(InputError) as caught:
        parse_mix(text)
    assert caught.value.field == "--scenario-mix" and message in str(caught.value)


def test_a_mix_reads_keys_labels_and_bare_counts():
    assert parse_mix(None) == DEFAULT_MIX
    assert parse_mix("Work/Study=5,health=4,family=2,Social=2,leisure=2")["work_study"] == 5
    assert parse_mix("1,2,3,4,5") == {"work_study": 1, "health": 2, "family": 3, "social": 4, "leisure": 5}


@pytest.mark.slow
def test_near_duplicates_with_the_bundled_embedding_model():
    embedder = Embedder()
    try:
        embedder.load()
    except EmbeddingUnavailable as error:
        pytest.skip(f"no embedding model: {error}")
    bundled = PersonaLibrary(Path("/nonexistent")).entries()
    texts = {entry.id: background_parts(entry.persona) for entry in bundled if entry.persona}
    shared = list(SHARED_BACKGROUND.values())
    texts["old"] = shared
    texts["new"] = [part.replace("dog", "puppy").replace("son", "daughter") for part in shared]

    report = near_duplicates(texts, {"new"}, embedder)

    assert (report.mode, report.threshold) == ("embedding", 0.90)
    assert [(pair.first, pair.second) for pair in report.pairs] == [("old", "new")]
    assert near_duplicates(texts, set(texts) - {"old", "new"}, embedder).pairs == []


async def test_a_refused_key_stops_the_job_after_one_request(synth_stub, tmp_path):
    synth_stub.script("synth-a", [error(401, "invalid api key")])
    plan = plan_for(synth_stub, count=3)

    result, _ = await run(plan, tmp_path)

    assert len(synth_stub.requests) == 1
    assert [(f.index, f.stage) for f in result.failed] == [(1, "demographic"), (2, ""), (3, "")]
    assert "auth" in result.failed[0].reason and result.failed[0].last_output is None
    assert all(f.reason.startswith("not attempted: ") for f in result.failed[1:])
    assert not Store(tmp_path).path(persona_path(plan.job, 2)).exists()


async def test_the_seed_goes_to_the_model_as_litellms_seed_and_is_recorded(data_dir):
    with StubLLM(SynthBot(seed=7)) as stub:
        result, library = await run(plan_for(stub, count=1, seed=7), data_dir)
    assert result.sampling_seed == 7 and result.to_dict()["sampling_seed"] == 7
    assert len(stub.requests) == len(STAGES) and all(body.get("seed") == 7 for body in stub.requests)
    [persona_id] = result.written
    assert library.get(persona_id).origin.sampling_seed == 7
    job = Store(data_dir).get(job_path(result.job), JOB_TABLE, "job")
    assert (job["seed"], job["sampling_seed"]) == (7, 7)


def test_a_provider_without_a_seed_parameter_is_not_sent_one():
    assert accepts_seed(ModelConfig(model="openai/synth-a", api_base="http://127.0.0.1:9"))
    assert not accepts_seed(ModelConfig(model="anthropic/claude-3-5-sonnet-20240620"))
