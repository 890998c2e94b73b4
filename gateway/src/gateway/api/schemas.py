"""What the REST API takes: bodies with bounds, so bad input is a 422 naming the field before
any service is called. Answers are the services' messages as JSON (field names as in the
contracts in proto/, enums by name)."""

from __future__ import annotations

from typing import Any, Literal

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from pydantic import BaseModel, ConfigDict, Field

Text = Field(min_length=1, max_length=200)
Id = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")
Email = Field(min_length=3, max_length=254)
Password = Field(min_length=1, max_length=256)
Reading = Literal["earlier", "later"] | None
MAX_VERSION = 2**62  # versions are int64 in the contracts
Version = Field(0, ge=0, le=MAX_VERSION, description="The version you read; 0 when new")
Code = Field(min_length=2, max_length=10, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganizationSignUp(Body):
    organization_name: str = Text
    name: str = Text
    email: str = Email
    password: str = Password


class ClinicianSignUp(Body):
    name: str = Text
    email: str = Email
    password: str = Password


class SignIn(Body):
    email: str = Email
    password: str = Password


class PasswordResetRequest(Body):
    email: str = Email


class NewPassword(Body):
    password: str = Password


class InvitationIn(Body):
    email: str = Email
    role: Literal["facility_admin", "facility_staff"] = "facility_staff"


class InvitationAccept(Body):
    name: str = Text
    password: str = Password


class FacilityIn(Body):
    facility_id: str = Id
    name: str = Text
    zone: str = Field(min_length=1, max_length=64)
    jurisdictions: list[str] = Field(default_factory=list, max_length=80)
    expected_version: int = Version


class ClinicianIds(Body):
    clinician_ids: list[str] = Field(default_factory=list, max_length=2000)


class ShiftIn(Body):
    profession: str = Field(min_length=1, max_length=40)
    skills: list[str] = Field(default_factory=list, max_length=50)
    patient_jurisdictions: list[str] = Field(default_factory=list, max_length=60)
    local_start: str = Field(min_length=1, max_length=40, examples=["2027-03-14T09:00"])
    local_end: str = Field(min_length=1, max_length=40, examples=["2027-03-14T17:00"])
    positions: int = Field(1, ge=1, le=1000)
    pay_cents_per_hour: int = Field(ge=0, le=10_000_000)
    scope_of_work: str = Field("", max_length=4000)
    start_reading: Reading = None
    end_reading: Reading = None


class SeriesIn(ShiftIn):
    every_days: int = Field(ge=1, le=28)
    occurrences: int = Field(ge=1, le=104)


class ShiftChange(ShiftIn):
    expected_version: int = Version


class CancelIn(Body):
    reason: str = Field("", max_length=500)
    expected_version: int = Version


class ProfileIn(Body):
    profession: str = Field(min_length=1, max_length=40)
    skills: list[str] = Field(default_factory=list, max_length=50)
    zone: str = Field(min_length=1, max_length=64)
    rate_cents_per_hour: int = Field(ge=0, le=10_000_000)
    max_minutes_per_week: int = Field(0, ge=0, le=10080)
    min_rest_minutes: int = Field(0, ge=0, le=10080)
    expected_version: int = Version


class Window(Body):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    end: str = Field(pattern=r"^\d{2}:\d{2}$")


class AvailabilityIn(Body):
    windows: list[Window] = Field(default_factory=list, max_length=100)
    quiet_hours_start: str = Field("", pattern=r"^(\d{2}:\d{2})?$")
    quiet_hours_end: str = Field("", pattern=r"^(\d{2}:\d{2})?$")
    expected_version: int = Version


class TimeOffIn(Body):
    dates: list[str] = Field(default_factory=list, max_length=400)
    release_clashing_bookings: bool = False
    expected_version: int = Version


class LicenceIn(Body):
    licence_id: str = Id
    jurisdiction: str = Code
    profession: str = Field(min_length=1, max_length=40)
    number: str = Field(min_length=1, max_length=60)
    issued: str = Field(min_length=10, max_length=10, examples=["2024-01-31"])
    expires: str = Field(min_length=10, max_length=10, examples=["2027-01-31"])
    multistate: bool = False
    expected_version: int = Version


class ResidenceIn(Body):
    residence: str = Code
    expected_version: int = Version


class DeclineIn(Body):
    reason: str = Field("", max_length=500)


class CompactTableIn(Body):
    table: dict[str, Any]
    source: str = Field(min_length=1, max_length=500)
    expected_version: int = Version


class AccountView(BaseModel):
    id: str
    role: str
    organization_id: str
    email: str
    name: str


class TokenView(BaseModel):
    token: str
    expires_at: str


class SignUpView(BaseModel):
    account: AccountView
    organization_id: str = ""


class InvitationView(BaseModel):
    email: str
    role: str
    expires_at: str


class AuthorityIn(Body):
    authority_id: str = Id
    kind: Literal["e_passport", "apit", "compact_privilege", "telehealth_registration"]
    compact: str = Field("", max_length=40)
    jurisdiction: str = Field("", max_length=10)
    profession: str = Field(min_length=1, max_length=40)
    issued: str = Field(min_length=10, max_length=10, examples=["2024-01-31"])
    expires: str = Field(min_length=10, max_length=10, examples=["2027-01-31"])
    expected_version: int = Version


def as_json(message: Message) -> dict[str, Any]:
    """A service's message as the API's JSON: field names as in the contract, enums by name,
    every field present, and 64-bit integers as numbers (not the strings of proto3 JSON)."""
    data = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    _numbers(message, data)
    return data


_INT64 = {FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT64,
          FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED64}  # fmt: skip


def _numbers(message: Message, data: dict[str, Any]) -> None:
    for field in message.DESCRIPTOR.fields:
        if field.name not in data:
            continue
        value = getattr(message, field.name)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            inner = (
                [(value, data[field.name])]
                if isinstance(value, Message)
                else zip(value, data[field.name], strict=False)
            )
            for each, shown in inner:
                if isinstance(shown, dict):
                    _numbers(each, shown)
        elif field.type in _INT64:
            data[field.name] = int(value) if isinstance(value, int) else [int(v) for v in value]
