"""The targets service's own models, built on the shared contracts (`Entity`)."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Any

from opsconductor_contracts import Entity
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic.json_schema import SkipJsonSchema

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
HOSTNAME_PATTERN = (
    r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
TAG_PATTERN = r"^[a-z0-9][a-z0-9:._-]*$"
# PostgreSQL text cannot hold NUL: free text refuses it up front, in both stores alike.
TEXT_PATTERN = r"^[^\x00]*$"
Tag = Annotated[str, Field(min_length=1, max_length=64, pattern=TAG_PATTERN)]


def _address(value: str) -> str:
    # A zone (`fe80::1%eth0`) is local to one host, and PostgreSQL's inet refuses it.
    if "%" in value:
        raise ValueError("an IPv4 or IPv6 address without a zone")
    return str(ipaddress.ip_address(value))


IpAddress = Annotated[
    str,
    Field(strict=True),
    AfterValidator(_address),
    WithJsonSchema({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}),
]
"""An IPv4 or IPv6 address, as a JSON string only, stored in its canonical form."""
SORTABLE_FIELDS = ("name", "hostname", "os_type", "created_at", "updated_at")


Hostname = Annotated[str, Field(max_length=253, pattern=HOSTNAME_PATTERN)]
Port = Annotated[int, Field(ge=1, le=65535)]
Tags = Annotated[list[Tag], Field(max_length=32)]


def _no_default(schema: dict[str, Any]) -> None:
    # A field that may be left out but not sent as null documents no `default: null`.
    schema.pop("default", None)


class OsType(StrEnum):
    """The operating system family of a target."""

    linux = "linux"
    windows = "windows"
    macos = "macos"
    network = "network"
    other = "other"


class TargetFields(BaseModel):
    """What a client says about a target."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=128, pattern=NAME_PATTERN, description="Unique name of the target."
    )
    hostname: str = Field(
        max_length=253, pattern=HOSTNAME_PATTERN, description="DNS name the executor connects to."
    )
    ip_address: IpAddress | None = Field(None, description="Address, when it is fixed.")
    os_type: OsType = Field(description="Operating system family.")
    port: int = Field(22, ge=1, le=65535, description="Management port (SSH, WinRM, ...).")
    tags: list[Tag] = Field(
        default_factory=list, max_length=32, description="Free labels for grouping."
    )
    description: str | None = Field(
        None, max_length=1024, pattern=TEXT_PATTERN, description="Notes for operators."
    )


class TargetCreate(TargetFields):
    """A new target."""


class TargetUpdate(BaseModel):
    """A change to a target; `lock_version` must be the one the client read (optimistic lock)."""

    model_config = ConfigDict(extra="forbid")

    lock_version: int = Field(ge=1, description="The lock_version the change is based on.")
    # Left out: unchanged. Only ip_address and description may be null (erased); the others
    # are required of a target, so null is refused and the schema does not offer it.
    hostname: Hostname | SkipJsonSchema[None] = Field(None, json_schema_extra=_no_default)
    ip_address: IpAddress | None = None
    os_type: OsType | SkipJsonSchema[None] = Field(None, json_schema_extra=_no_default)
    port: Port | SkipJsonSchema[None] = Field(None, json_schema_extra=_no_default)
    tags: Tags | SkipJsonSchema[None] = Field(None, json_schema_extra=_no_default)
    description: str | None = Field(None, max_length=1024, pattern=TEXT_PATTERN)

    @field_validator("hostname", "os_type", "port", "tags", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Leaving a field out keeps it; null would erase a value the target must have.
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep the current value")
        return value


class Target(Entity):
    """A managed host: its identity, timestamps and lock version, and what a client said about it."""

    name: str = Field(description="Unique name of the target.")
    hostname: str = Field(description="DNS name the executor connects to.")
    ip_address: IpAddress | None = Field(None, description="Address, when it is fixed.")
    os_type: OsType = Field(description="Operating system family.")
    port: int = Field(description="Management port.")
    tags: list[str] = Field(default_factory=list, description="Free labels for grouping.")
    description: str | None = Field(None, description="Notes for operators.")


class BulkCreateRequest(BaseModel):
    """Up to 100 targets to create at once; each succeeds or fails on its own."""

    model_config = ConfigDict(extra="forbid")

    items: list[TargetCreate] = Field(min_length=1, max_length=100)
