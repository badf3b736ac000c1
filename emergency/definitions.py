"""The registry data of emergency management as validated values: hazards, plans, resources.

Pydantic models, so the API's bodies and a YAML file are checked by one definition and a bad
field is named in the error (422). Limits are in the field constraints and in docs/emergency.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from emergency import gb18218

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
ShortText = Annotated[str, Field(max_length=200)]
Names = Annotated[list[Annotated[str, Field(min_length=1, max_length=128)]], Field(max_length=50)]
IncidentType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
MAX_STEPS = 50
MAX_CHECKLIST = 30


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubstanceIn(Strict):
    substance: Annotated[str, Field(min_length=1, max_length=64)]
    quantity_t: Annotated[float, Field(ge=0, le=1e7)]
    threshold_t: Annotated[float | None, Field(ge=0.001, le=1e6)] = None  # GB 18218-2018 table 1 unless stated
    beta: Annotated[float | None, Field(ge=0.1, le=100)] = None


class Responsible(Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    phone: Annotated[str, Field(pattern=r"^\+?[0-9]{5,20}$")] | None = None


class HazardIn(Strict):
    code: Code
    name: Name
    enterprise: Code | None = None  # the enterprise's code in the park; None: a park-level hazard
    kind: Literal["major_hazard", "risk_point"] = "major_hazard"
    unit_kind: Literal["production", "storage"] = "storage"
    substances: Annotated[list[SubstanceIn], Field(max_length=50)] = []
    exposed_people: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    zone: Annotated[str, Field(max_length=64)] = ""
    plan_x: Annotated[float | None, Field(ge=0, le=1)] = None
    plan_y: Annotated[float | None, Field(ge=0, le=1)] = None
    responsible: Responsible
    devices: Annotated[list[Code], Field(max_length=200)] = []  # device codes of the enterprise
    incident_type: IncidentType = "gas_leak"

    def holdings(self) -> list[gb18218.Holding]:
        """The holdings for GB 18218 (HazardError naming the substance when the table lacks it)."""
        return [gb18218.holding(s.substance, s.quantity_t, s.threshold_t, s.beta) for s in self.substances]


class Notify(Strict):
    """Whom a step pages, as an escalation level does (docs/paging.md): receivers by name, and
    on their email and SMS channels the contacts named and whoever the rosters have on duty.
    Names of the plan's park or platform-wide ones: another park's are refused on saving
    (emergency.registry_store.save_plan, by alerting.paging_names, the rule paging's API uses)."""

    receivers: Names = []
    contacts: Names = []
    rosters: Names = []


class StepIn(Strict):
    title: Name
    role: Annotated[str, Field(max_length=64)] = ""
    checklist: Annotated[list[ShortText], Field(max_length=MAX_CHECKLIST)] = []
    notify: Notify = Notify()


class PlanIn(Strict):
    code: Code
    name: Name
    incident_type: IncidentType
    hazard_codes: Annotated[list[Code], Field(max_length=100)] = []
    steps: Annotated[list[StepIn], Field(min_length=1, max_length=MAX_STEPS)]


class ResourceIn(Strict):
    code: Code
    name: Name
    kind: Literal["team", "supply", "equipment"]
    enterprise: Code | None = None
    quantity: Annotated[float, Field(ge=0, le=1e9)]
    unit: Annotated[str, Field(max_length=16)] = ""
    zone: Annotated[str, Field(max_length=64)] = ""
    contact: Annotated[str, Field(max_length=128)] = ""


class EmergencyModel(Strict):
    """A park's emergency registry as one file (`smartpark emergency load FILE`)."""

    park: Code
    hazards: Annotated[list[HazardIn], Field(max_length=5000)] = []
    plans: Annotated[list[PlanIn], Field(max_length=500)] = []
    resources: Annotated[list[ResourceIn], Field(max_length=10_000)] = []

    @field_validator("hazards", "plans", "resources")
    @classmethod
    def _codes_unique(cls, items: list[Any]) -> list[Any]:
        codes = [i.code for i in items]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"codes {dup} appear more than once")
        return items
