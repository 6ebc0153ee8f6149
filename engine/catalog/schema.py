"""Pydantic models of the YAML files under config/: the configuration's public API.

Each model is one kind of file or one block inside it. Unknown keys are errors
(extra="forbid"); every model is frozen so a loaded Catalog can be shared between
threads without copying. Cross-references (a topic's form, a form's `use`, a
template's params) are checked by the loader, not here. The models that name channel
kinds (bindings, templates, `channels` lists) are built per set of installed channels
by `config_models`.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from types import SimpleNamespace
from typing import Annotated, Any, Literal, Protocol, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from engine.local_time import is_zone

IDENTIFIER_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
DURATION_PATTERN = r"^\d+\s*[smhd]$"

Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN, description="Lowercase id: letters, digits, '-', '_' (max 40)")]
Priority = Literal["low", "normal", "high", "urgent"]
FieldType = Literal["string", "text", "integer", "select", "boolean", "email", "phone", "date", "attachments"]
ParamType = Literal["string", "number", "integer", "boolean", "date"]
Duration = Annotated[str, Field(pattern=DURATION_PATTERN, description="A duration: 30s, 15m, 36h, 2d")]
Locale = Literal["ru", "en"]


def _known_zone(name: str) -> str:
    if not is_zone(name):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Europe/Moscow or UTC)")
    return name


TimeZone = Annotated[str, AfterValidator(_known_zone), Field(description="An IANA time zone: Europe/Moscow, Asia/Yekaterinburg, UTC")]
_Title = Annotated[str, Field(min_length=1, max_length=200)]
# A text people read: one string, or one per locale ({ru: ..., en: ...}; missing ones fall back to the default locale).
Text = str | dict[Locale, str]
Title = _Title | dict[Locale, _Title]
_Body = Annotated[str, Field(min_length=1)]
Words = list[str] | dict[Locale, list[str]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- forms -------------------------------------------------------------------------


class SelectOption(Strict):
    value: str
    label: Text | None = Field(None, description="Shown text; defaults to value")


class VisibleWhen(Strict):
    """Show (and require) a field only when another field has one of the given values."""

    field: Identifier
    equals: str | bool | int | None = None
    in_: list[str] | None = Field(None, alias="in")


class FieldSpec(Strict):
    """A form field: declared in the field library, inline in a form, or a `use` of a library field with overrides."""

    label: Text | None = None
    type: FieldType | None = Field(None, description="Defaults to string")
    help: Text | None = Field(None, description="Where to find the value; shown inline on the web and behind 'Где найти?' in Telegram")
    placeholder: Text | None = None
    required: bool | None = None
    pattern: str | None = Field(None, description="Python regular expression the whole value must match")
    pattern_message: Text | None = Field(None, description="Error shown when the pattern does not match")
    min_length: int | None = Field(None, ge=0)
    max_length: int | None = Field(None, ge=1)
    min: int | None = None
    max: int | None = None
    options: list[str | SelectOption] | None = Field(None, description="Choices of a select field")
    skippable: bool | None = Field(None, description="Telegram shows a Skip button; defaults to not required")
    visible_when: VisibleWhen | None = None
    max_files: int | None = Field(None, ge=1, le=20, description="attachments: defaults to the policy")
    max_file_size_mb: float | None = Field(None, gt=0, description="attachments: defaults to the policy")
    allowed_types: list[str] | None = Field(None, description="attachments: MIME types or extensions; defaults to the policy")
    position: Literal["first", "last"] | None = Field(None, description="Where the field goes in a form that extends its form: first, or after that form's own fields (last); default: before them")
    after: Identifier | None = Field(None, description="Put the field right after this field of the resolved form (wins over position)")


class FormField(FieldSpec):
    """One entry of a form's `fields` list: either `id` (inline) or `use` (library field)."""

    id: Identifier | None = Field(None, description="Inline field id; or the id under which a `use`d field appears")
    use: Identifier | None = Field(None, description="Id of a field in the field library")


class FieldLibraryFile(Strict):
    """config/forms/fields.yaml: reusable fields keyed by id."""

    fields: dict[Identifier, FieldSpec]


class FormFile(Strict):
    """config/forms/<id>.yaml: one form. Reserved field ids: subject, message, attachments."""

    id: Identifier
    title: Text | None = None
    extends: Identifier | None = Field(None, description="Parent form; its fields come before this form's own (unless a field says `position: last` or `after`), same id replaces")
    fields: list[FormField] = Field(default_factory=list)


# --- channel bindings --------------------------------------------------------------


class BindingBase(Strict):
    """Keys every channel binding has; a channel's own binding model narrows `kind` to `Literal["<kind>"]` and adds its keys."""

    kind: str = Field(description="What the binding is: an installed channel's kind")
    title: Text | None = None
    serves: list[Literal["notifications", "tickets"]] = Field(default_factory=lambda: ["notifications"])
    notifications: list[Identifier] | None = Field(None, description="Types delivered through this binding; default all")


ChannelBinding = BindingBase  # the annotation of a loaded binding: one of the registered kinds' models


class ChannelSchema(Protocol):
    """What the config needs of an installed channel (engine.channel_protocol.Channel has it)."""

    kind: str
    binding_model: type[BindingBase]
    template_type: Any  # the annotation of `templates.<kind>`
    in_app: bool  # the portal's own list: the default of a type's `default_channels`


@lru_cache(maxsize=16)
def config_models(channels: tuple[ChannelSchema, ...]) -> SimpleNamespace:
    """The models whose keys depend on the installed channels, built for this set: TopicSpec, CategoryFile,
    Templates, NotificationTypeSpec, NotificationTypesFile, ChannelsFile and the ChannelBinding union on `kind`."""
    kinds = tuple(c.kind for c in channels)
    ChannelKind = Literal[kinds]  # noqa: N806 (a type)
    in_app = [c.kind for c in channels if c.in_app]
    members = tuple(c.binding_model for c in channels)
    Binding = Annotated[Union[members], Field(discriminator="kind")] if len(members) > 1 else members[0]  # noqa: N806

    class TopicSpec(Strict):
        id: Identifier
        title: Title
        description: Text = ""
        priority: Priority = "normal"
        form: Identifier = Field("default", description="Form id under config/forms/")
        keywords: Words = Field(default_factory=list, description="Extra words for the 'don't know what to pick' search")
        channels: list[ChannelKind] | None = Field(None, description="Where the topic is offered; default everywhere")

    class CategoryFile(Strict):
        """config/categories/<id>.yaml: one category with its topics."""

        id: Identifier
        title: Title
        description: Text = ""
        order: int = 100
        icon: str | None = None
        keywords: Words = Field(default_factory=list)
        channels: list[ChannelKind] | None = None
        topics: list[TopicSpec] = Field(min_length=1)

    Templates = create_model(  # noqa: N806: one optional key per channel kind, in registry order
        "Templates", __base__=Strict, __module__=__name__,
        **{c.kind: (c.template_type | None, None) for c in channels},
    )

    class NotificationTypeSpec(Strict):
        title: Title
        description: Text = ""
        source: Literal["ticket", "event", "account", "staff"] = Field(
            description="ticket: raised by the engine; event: posted through the events API; "
                        "account: sign-up and password emails, sent to the account's own address only; "
                        "staff: raised by the engine for agents and team addresses (config/teams.yaml)")
        params: dict[Identifier, ParamType] = Field(default_factory=dict)
        default_channels: list[ChannelKind] = Field(default_factory=lambda: list(in_app))
        templates: Templates

    class NotificationTypesFile(Strict):
        """config/notifications/types.yaml."""

        types: dict[Identifier, NotificationTypeSpec]

    class ChannelsFile(Strict):
        """config/notifications/channels.yaml."""

        channels: dict[Identifier, Binding]

    class TeamSpec(Strict):
        """One team of config/teams.yaml."""

        title: Title
        members: list[EmailAddress] = Field(default_factory=list, description="Agents' account emails")
        notify: dict[ChannelKind, str] = Field(
            default_factory=dict, description="The team's own addresses by channel kind (a Telegram chat id, a mailbox)")

    class TeamsFile(Strict):
        """config/teams.yaml: teams, and the rules that route a new ticket to one."""

        teams: dict[Identifier, TeamSpec] = Field(min_length=1)
        routing: list[RoutingRule] = Field(default_factory=list, description="Tried in order: the first match wins")
        default: Identifier | None = Field(None, description="The team of a ticket no rule matches; default: none")

    return SimpleNamespace(
        kinds=kinds, ChannelKind=ChannelKind, ChannelBinding=Binding, TopicSpec=TopicSpec, CategoryFile=CategoryFile,
        Templates=Templates, NotificationTypeSpec=NotificationTypeSpec, NotificationTypesFile=NotificationTypesFile,
        ChannelsFile=ChannelsFile, TeamSpec=TeamSpec, TeamsFile=TeamsFile,
    )


# --- teams ---------------------------------------------------------------------------


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
EmailAddress = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254, description="An email address")]
OneOrMore = str | list[str]


class RoutingRule(Strict):
    """A rule of config/teams.yaml `routing`: every condition given must hold (a list: any of its values)."""

    team: Identifier = Field(description="The team a matching ticket gets")
    category: OneOrMore | None = Field(None, description="Category ids")
    topic: OneOrMore | None = Field(None, description="Topic keys 'category/topic'")
    priority: Priority | list[Priority] | None = Field(None, description="The topic's priority")
    fields: dict[Identifier, str | int | bool | list[str | int | bool]] | None = Field(
        None, description="Form field id -> value (a select's option value) or a list of values")


# --- canned replies ----------------------------------------------------------------


class CannedReplyFile(Strict):
    """config/replies/<id>.yaml: one canned reply staff insert into the reply box."""

    id: Identifier
    title: Title = Field(description="Shown in the agent's list of canned replies; one, or one per locale")
    body: _Body | dict[Locale, _Body] = Field(description="A sandboxed template of the reply text, rendered with the "
                                                          "ticket's params in the customer's locale; one, or one per locale")
    topics: list[str] | None = Field(None, description="Where it is offered: topic keys 'category/topic' or category ids; default every ticket")


# --- SLA ---------------------------------------------------------------------------

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HOURS_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$"
HoursRange = Annotated[str, Field(pattern=HOURS_PATTERN,
                                  description="Working hours of a day, local time: '09:00-18:00' (end 24:00 = midnight)")]


class BusinessCalendarSpec(Strict):
    """A business calendar: when the SLA clock runs."""

    time_zone: str = Field(description="IANA time zone, e.g. Europe/Moscow")
    hours: dict[Weekday, HoursRange | list[HoursRange]] = Field(
        description="Working hours per weekday (mon..sun): one range or a list (a lunch break); a day left out is off")
    holidays: list[date] = Field(default_factory=list, description="Local dates off (YYYY-MM-DD), whatever the weekday")


class SlaTargetSpec(Strict):
    """The business time allowed for a ticket of one priority; a target left out is not tracked."""

    first_response: Duration | None = Field(None, description="Until the first staff reply (business time)")
    resolution: Duration | None = Field(None, description="Until the ticket is archived, time waiting for the customer not counted")


class SlaOverride(Strict):
    """Targets (and optionally a calendar) for the tickets of one topic or category."""

    calendar: Identifier | None = Field(None, description="Default: the file's `calendar`")
    targets: dict[Priority, SlaTargetSpec] = Field(description="Per priority; a priority left out uses the file's `targets`")


class SlaFile(Strict):
    """config/sla.yaml: business calendars and SLA targets."""

    calendars: dict[Identifier, BusinessCalendarSpec] = Field(min_length=1)
    calendar: Identifier = Field(description="The calendar targets count in, unless a topic's override names another")
    warn_before: Duration | None = Field("1h", description="Warn this much business time before a breach; null: no warnings")
    targets: dict[Priority, SlaTargetSpec] = Field(description="Per priority; a priority left out has no SLA")
    topics: dict[str, SlaOverride] = Field(
        default_factory=dict, description="Overrides by topic key 'category/topic' or category id (the topic key wins)")


# --- policies and UI texts ---------------------------------------------------------


class AttachmentPolicy(Strict):
    max_files: int = Field(5, ge=1, le=20)
    max_file_size_mb: float = Field(10, gt=0, le=20)
    allowed_types: list[str] = Field(
        default_factory=lambda: ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain",
                                 "application/zip", "text/csv", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "audio/mpeg", "audio/ogg", "audio/x-wav"]
    )


class AutoClosePolicy(Strict):
    after: Duration | None = Field("2d", description="Close a ticket waiting for the customer this long; null disables")
    reminder_before: Duration | None = Field("1d", description="Remind the customer this long before auto-close; null disables")


class RateLimitPolicy(Strict):
    per_bot_per_second: float = Field(30, gt=0)
    per_chat_per_second: float = Field(1, gt=0)
    per_group_per_minute: float = Field(20, gt=0, description="Messages per minute to one group or channel chat")


class DeliveryPolicy(Strict):
    max_attempts: int = Field(6, ge=1, le=50)
    retry_backoff: list[int] = Field(default_factory=lambda: [5, 30, 120, 600, 1800], description="Seconds between attempts")
    lease: Duration | None = Field(None, description="How long a worker owns a delivery it is sending; a killed worker's rows are retried after it. "
                                   "Default: the channel's send timeout plus 10 s")
    sweep_every: Duration = Field("30s", description="How often workers re-enqueue due deliveries and close overdue tickets from the database")


class SessionPolicy(Strict):
    idle: Duration = Field("1d", description="A web session unused this long ends")
    lifetime: Duration = Field("14d", description="A web session ends this long after sign-in, however active")


class PasswordPolicy(Strict):
    min_length: int = Field(10, ge=8, le=128, description="Fewest characters a new password may have")
    max_length: int = Field(256, ge=16, le=1024, description="Most characters a new password may have")
    not_email: bool = Field(True, description="Refuse a password containing the account's email or its local part")
    not_common: bool = Field(True, description="Refuse a password on the list of 30,000 passwords seen most often in "
                                               "leaks (shipped by the zxcvbn package)")


class SignupPolicy(Strict):
    mode: Literal["open", "domains", "invite", "closed"] = Field(
        "closed", description="open: anyone; domains: addresses in `domains` only; invite: only addresses staff invited; "
                              "closed: no public sign-up page and no invitations")
    domains: list[Annotated[str, Field(pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$")]] = Field(
        default_factory=list, description="Email domains allowed to sign up in mode `domains` (lowercase, exact match)")
    require_verification: bool = Field(True, description="An account must confirm its email before creating tickets")
    verification_ttl: Duration = Field("2d", description="How long an email verification link works")
    reset_ttl: Duration = Field("30m", description="How long a password reset link works (once)")
    invitation_ttl: Duration = Field("7d", description="How long an invitation link works (once)")
    invitations_per_hour: int = Field(30, ge=1, le=10000, description="Invitations (new or resent) one staff member may send in an hour")
    invitations_per_address: int = Field(3, ge=1, le=100, description="Invitations (new or resent) one address may receive in an hour")
    magic_link: bool = Field(False, description="The sign-in page offers an emailed one-time sign-in link")
    magic_link_ttl: Duration = Field("15m", description="How long an emailed sign-in link works (once)")
    telegram_first: bool = Field(False, description="Someone writing to a support bot without an account gets one bound to their Telegram id")
    claim_code_ttl: Duration = Field("15m", description="How long the bot's one-time code for claiming a Telegram-first account on the web works")

    @model_validator(mode="after")
    def _domains_listed(self):
        if self.mode == "domains" and not self.domains:
            raise ValueError("signup mode 'domains' needs a non-empty 'domains' list")
        return self


class Policies(Strict):
    default_locale: Locale = "ru"
    locales: list[Locale] | None = Field(None, description="Languages every catalog text should have (config check warns on a missing one); default: the default locale")
    attachments: AttachmentPolicy = AttachmentPolicy()
    auto_close: AutoClosePolicy = AutoClosePolicy()
    telegram_rate: RateLimitPolicy = RateLimitPolicy()
    delivery: DeliveryPolicy = DeliveryPolicy()
    link_token_ttl: Duration = "15m"
    sessions: SessionPolicy = SessionPolicy()
    signup: SignupPolicy = SignupPolicy()
    passwords: PasswordPolicy = PasswordPolicy()
    time_zone: TimeZone = Field("UTC", description="The zone times are shown in to people who chose none in their settings "
                                "(web pages, Telegram, emails); each person may choose their own")


class PoliciesFile(Strict):
    """config/policies.yaml."""

    policies: Policies = Policies()


class UITextsFile(Strict):
    """config/ui/<locale>.yaml: overrides of the built-in texts; keys must exist in the defaults."""

    locale: Literal["ru", "en"]
    web: dict[str, str] = Field(default_factory=dict)
    telegram: dict[str, str] = Field(default_factory=dict)
    email: dict[str, str] = Field(default_factory=dict)
    validation: dict[str, str] = Field(default_factory=dict)

    @field_validator("*")
    @classmethod
    def _no_empty(cls, value):
        for key, text in value.items() if isinstance(value, dict) else ():
            if not text.strip():
                raise ValueError(f"text '{key}' is empty")
        return value
