"""schedule_manager and medical_appointment: tools whose calls change what later calls see.

State lives in the store per scope (a run, or the CLI's "cli" scope) and persona, so runs
and personas never see each other's appointments. Every result lists what it changed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from tinydb import TinyDB

from compass_tui.names import storage_name
from compass_tui.store import Store
from compass_tui.tools.calls import CallProblem
from compass_tui.tools.data import ToolData

_DEPARTMENT_WORDS: list[tuple[tuple[str, ...], str]] = [
    (("cough", "breath", "asthma", "lung", "wheez", "chest infection", "inhaler"), "Respiratory Medicine"),
    (("joint", "knee", "back", "bone", "fracture", "sprain", "shoulder", "hip", "fall"), "Orthopaedics"),
    (("heart", "chest pain", "palpitation", "blood pressure"), "Cardiology"),
    (("skin", "rash", "eczema", "itch", "acne"), "Dermatology"),
    (("diabet", "thyroid", "glucose", "insulin", "hormone"), "Endocrinology"),
    (("headache", "migraine", "dizz", "numb", "memory", "alzheimer", "dementia", "seizure"), "Neurology"),
    (("stomach", "digest", "nausea", "bowel", "reflux"), "Gastroenterology"),
    (
        ("anxiety", "depress", "panic", "stress", "mood", "grief", "therapy", "counsel", "lonely"),
        "Mental Health",
    ),
    (("physio", "rehab", "mobility", "stretch", "muscle"), "Physiotherapy"),
    (("child", "baby", "toddler", "kid"), "Paediatrics"),
    (("pregnan", "prenatal", "midwife", "gynae", "menopause", "period"), "Obstetrics and Gynaecology"),
    (("eye", "vision", "sight"), "Ophthalmology"),
    (("ear", "hearing", "throat", "sinus", "tinnitus"), "Ear, Nose and Throat"),
    (("sleep", "insomnia", "snor"), "Sleep Medicine"),
    (("elderly", "frail", "ageing", "aging"), "Geriatrics"),
    (("arthritis", "rheumat", "lupus"), "Rheumatology"),
    (("tooth", "teeth", "dental", "gum"), "Dental Care"),
    (("tumour", "tumor", "cancer", "lump"), "Oncology"),
]
_SLOTS = ("09:00", "09:30", "10:00", "10:30", "11:00", "14:00", "14:30", "15:00", "15:30", "16:00")


class ToolFailure(Exception):
    """A call that validated but cannot be carried out (an id that does not exist)."""

    def __init__(self, problem: CallProblem):
        super().__init__(problem.message)
        self.problem = problem


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


class StatefulTools:
    def __init__(self, store: Store, data: ToolData):
        self.store = store
        self.data = data

    def shard(self, scope: str, persona_id: str) -> str:
        return f"tool_state/{storage_name(scope)}/{storage_name(persona_id)}.json"

    def reset(self, scope: str, persona_id: str) -> None:
        shard = self.store.path(self.shard(scope, persona_id))
        with self.store.transaction(self.shard(scope, persona_id)) as database:
            database.drop_tables()
        shard.unlink(missing_ok=True)

    def schedule_api(self, params: dict[str, Any], scope: str, persona_id: str) -> tuple[Any, list[dict]]:
        with self.store.transaction(self.shard(scope, persona_id)) as database:
            table = database.table("schedules")
            if not table and self.data.schedule_seed and not database.table("meta").all():
                table.insert_multiple({"id": key, **value} for key, value in self.data.schedule_seed.items())
                database.table("meta").insert({"seeded": True})
            return _SCHEDULE_OPERATIONS[params["operation"]](table, params)

    def medical_appointment_operation(
        self, params: dict[str, Any], scope: str, persona_id: str, patient: dict[str, str]
    ) -> tuple[Any, list[dict]]:
        with self.store.transaction(self.shard(scope, persona_id)) as database:
            operation = params["operation"]
            if operation == "book":
                return self._book(database, params, patient)
            return _APPOINTMENT_OPERATIONS[operation](database.table("appointments"), params, patient)

    def _book(
        self, database: TinyDB, params: dict[str, Any], patient: dict[str, str]
    ) -> tuple[Any, list[dict]]:
        table = database.table("appointments")
        number = len(table) + 1
        department = params.get("department") or _department_for(params.get("illness_description", ""))
        hospital, doctor = self._hospital_for(department, params.get("hospital"), number)
        appointment = {
            "id": f"APT-{number:04d}",
            "user_name": params.get("user_name") or patient.get("name", ""),
            "user_phone": params.get("user_phone") or patient.get("phone", ""),
            "user_id": params.get("user_id", ""),
            "illness_description": params.get("illness_description", ""),
            "desired_date": params["desired_date"],
            "hospital": hospital,
            "department": department,
            "doctor": doctor,
            "appointment_date": f"{params['desired_date']} {_SLOTS[(number - 1) % len(_SLOTS)]}",
            "status": "confirmed",
            "created_at": _now(),
            "updated_at": _now(),
        }
        table.insert(appointment)
        result = {
            "success": True,
            "result": {
                "message": "Appointment booked",
                "appointment_id": appointment["id"],
                "hospital": hospital,
                "department": department,
                "doctor": doctor,
                "appointment_date": appointment["appointment_date"],
            },
        }
        return result, [{"op": "book", "id": appointment["id"], "after": appointment}]

    def _hospital_for(self, department: str, wanted_hospital: str | None, number: int) -> tuple[str, str]:
        hospitals = self.data.hospitals.items
        offering = [h for h in hospitals if department in h["departments"]] or hospitals
        if wanted_hospital:
            named = [h for h in offering if wanted_hospital.casefold() in h["name"].casefold()]
            offering = named or offering
        hospital = offering[0]
        doctors = hospital["departments"].get(department) or next(iter(hospital["departments"].values()))
        return hospital["name"], doctors[(number - 1) % len(doctors)]


def _department_for(description: str) -> str:
    text = description.lower()
    for words, department in _DEPARTMENT_WORDS:
        if any(word in text for word in words):
            return department
    return "General Practice"


def _find_schedule(table, schedule_id: str) -> dict:
    for entry in table.all():
        if entry["id"] == schedule_id:
            return entry
    raise ToolFailure(CallProblem("not_found", f"no schedule {schedule_id!r}", "schedule_id"))


def _schedule_add(table, params: dict) -> tuple[Any, list[dict]]:
    numbers = [
        int(entry["id"].split("_")[1]) for entry in table.all() if entry["id"].split("_")[-1].isdigit()
    ]
    entry = {
        "id": f"sch_{max(numbers, default=0) + 1}",
        "time": params["time"],
        "location": params["location"],
        "event": params["event"],
        "duration": params["duration"],
        "created_at": _now(),
    }
    table.insert(entry)
    return [True, f"Schedule added successfully, ID: {entry['id']}"], [
        {"op": "add", "id": entry["id"], "after": entry}
    ]


def _schedule_delete(table, params: dict) -> tuple[Any, list[dict]]:
    entry = _find_schedule(table, params["schedule_id"])
    table.remove(lambda stored: stored["id"] == entry["id"])
    return [True, f"Schedule {entry['id']} has been deleted"], [
        {"op": "delete", "id": entry["id"], "before": entry}
    ]


def _schedule_update(table, params: dict) -> tuple[Any, list[dict]]:
    before = _find_schedule(table, params["schedule_id"])
    changes = {k: params[k] for k in ("time", "location", "event", "duration") if params.get(k)}
    after = {**before, **changes}
    table.update(changes, lambda stored: stored["id"] == before["id"])
    return [True, f"Schedule {before['id']} has been updated"], [
        {"op": "update", "id": before["id"], "before": before, "after": after}
    ]


def _schedule_query(table, params: dict) -> tuple[Any, list[dict]]:
    def matches(entry: dict) -> bool:
        if params.get("time") and not entry["time"].startswith(params["time"][:10]):
            return False
        if params.get("location") and params["location"].casefold() not in entry["location"].casefold():
            return False
        return not params.get("event") or params["event"].casefold() in entry["event"].casefold()

    return sorted((e for e in table.all() if matches(e)), key=lambda e: e["time"]), []


def _schedule_all(table, params: dict) -> tuple[Any, list[dict]]:
    return sorted(table.all(), key=lambda entry: entry["time"]), []


_SCHEDULE_OPERATIONS = {
    "add": _schedule_add,
    "delete": _schedule_delete,
    "update": _schedule_update,
    "query": _schedule_query,
    "get_all": _schedule_all,
}


def _find_appointment(table, params: dict) -> dict:
    if not params.get("appointment_id"):
        raise ToolFailure(
            CallProblem("invalid_params", "appointment_id is needed for this operation", "appointment_id")
        )
    for entry in table.all():
        if entry["id"] == params["appointment_id"]:
            return entry
    raise ToolFailure(
        CallProblem("not_found", f"no appointment {params['appointment_id']!r}", "appointment_id")
    )


def _appointment_query(table, params: dict, patient: dict) -> tuple[Any, list[dict]]:
    if params.get("appointment_id"):
        return {"success": True, "result": [_find_appointment(table, params)]}, []
    filters = {
        k: params[k] for k in ("user_phone", "user_name", "status", "hospital", "department") if params.get(k)
    }
    found = [
        e
        for e in table.all()
        if all(str(v).casefold() in str(e.get(k, "")).casefold() for k, v in filters.items())
    ]
    return {"success": True, "result": found}, []


def _appointment_modify(table, params: dict, patient: dict) -> tuple[Any, list[dict]]:
    before = _find_appointment(table, params)
    slot = _SLOTS[int(hashlib.sha256(params["desired_date"].encode()).hexdigest(), 16) % len(_SLOTS)]
    changes = {
        "desired_date": params["desired_date"],
        "appointment_date": f"{params['desired_date']} {slot}",
        "updated_at": _now(),
    }
    table.update(changes, lambda stored: stored["id"] == before["id"])
    after = {**before, **changes}
    result = {
        "success": True,
        "result": {
            "message": "Appointment has been updated",
            "hospital": after["hospital"],
            "department": after["department"],
            "appointment_date": after["appointment_date"],
        },
    }
    return result, [{"op": "modify", "id": before["id"], "before": before, "after": after}]


def _appointment_cancel(table, params: dict, patient: dict) -> tuple[Any, list[dict]]:
    before = _find_appointment(table, params)
    changes = {"status": "cancelled", "updated_at": _now()}
    table.update(changes, lambda stored: stored["id"] == before["id"])
    result = {
        "success": True,
        "result": {"message": "Appointment has been cancelled", "appointment_id": before["id"]},
    }
    return result, [{"op": "cancel", "id": before["id"], "before": before, "after": {**before, **changes}}]


_APPOINTMENT_OPERATIONS = {
    "query": _appointment_query,
    "modify": _appointment_modify,
    "cancel": _appointment_cancel,
}
