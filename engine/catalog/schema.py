"""Pydantic models of the YAML files under config/: the configuration's public API.

Each model is one kind of file or one block inside it. Unknown keys are errors
(extra="forbid"); every model is frozen so a loaded Catalog can be shared between
threads without copying. Cross-references (a topic's form, a form's `use`, a
template's params) are checked by the loader, not here.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

IDENTIFIER_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
DURATION_PATTERN = r"^\d+\s*[smhd]$"

Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN, description="Lowercase id: letters, digits, '-', '_' (max 40)")]
Priority = Literal["low", "normal", "high", "urgent"]
ChannelKind = Literal["web", "email", "telegram"]
FieldType = Literal["string", "text", "integer", "select", "boolean", "email", "phone", "date", "attachments"]
ParamType = Literal["string", "number", "integer", "boolean", "date"]
Duration = Annotated[str, Field(pattern=DURATION_PATTERN, description="A duration: 30s, 15m, 36h, 2d")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- forms -------------------------------------------------------------------------


class SelectOption(Strict):
    value: str
    label: str | None = Field(None, description="Shown text; defaults to value")


class VisibleWhen(Strict):
    """Show (and require) a field only when another field has one of the given values."""

    field: Identifier
    equals: str | bool | int | None = None
    in_: list[str] | None = Field(None, alias="in")


class FieldSpec(Strict):
    """A form field: declared in the field library, inline in a form, or a `use` of a library field with overrides."""

    label: str | None = None
    type: FieldType | None = Field(None, description="Defaults to string")
    help: str | None = Field(None, description="Where to find the value; shown inline on the web and behind 'Где найти?' in Telegram")
    placeholder: str | None = None
    required: bool | None = None
    pattern: str | None = Field(None, description="Python regular expression the whole value must match")
    pattern_message: str | None = Field(None, description="Error shown when the pattern does not match")
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
    title: str | None = None
    extends: Identifier | None = Field(None, description="Parent form; its fields follow this form's own, same id replaces")
    fields: list[FormField] = Field(default_factory=list)


# --- categories --------------------------------------------------------------------


class TopicSpec(Strict):
    id: Identifier
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    priority: Priority = "normal"
    form: Identifier = Field("default", description="Form id under config/forms/")
    keywords: list[str] = Field(default_factory=list, description="Extra words for the 'don't know what to pick' search")
    channels: list[ChannelKind] | None = Field(None, description="Where the topic is offered; default everywhere")


class CategoryFile(Strict):
    """config/categories/<id>.yaml: one category with its topics."""

    id: Identifier
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    order: int = 100
    icon: str | None = None
    keywords: list[str] = Field(default_factory=list)
    channels: list[ChannelKind] | None = None
    topics: list[TopicSpec] = Field(min_length=1)


# --- notifications -----------------------------------------------------------------


class EmailTemplate(Strict):
    subject: str
    body: str = Field(description="Plain text body (Jinja2, sandboxed)")
    html: str | None = Field(None, description="HTML body (autoescaped); default: the text body in <pre>")


class Templates(Strict):
    web: str | None = None
    telegram: str | None = None
    email: EmailTemplate | None = None


class NotificationTypeSpec(Strict):
    title: str
    description: str = ""
    source: Literal["ticket", "event"] = Field(description="ticket: raised by the engine; event: posted through the events API")
    params: dict[Identifier, ParamType] = Field(default_factory=dict)
    default_channels: list[ChannelKind] = Field(default_factory=lambda: ["web"])
    templates: Templates


class NotificationTypesFile(Strict):
    """config/notifications/types.yaml."""

    types: dict[Identifier, NotificationTypeSpec]


class ChannelBinding(Strict):
    kind: ChannelKind
    title: str | None = None
    token_env: str | None = Field(None, description="telegram: environment variable holding the bot token")
    username: str | None = Field(None, description="telegram: the bot's @username, for t.me deep links")
    serves: list[Literal["notifications", "tickets"]] = Field(default_factory=lambda: ["notifications"])
    notifications: list[Identifier] | None = Field(None, description="Types delivered through this binding; default all")
    link_by_username: bool = Field(False, description="telegram: /start links a customer who entered this username in settings")
    smtp_url_env: str | None = Field(None, description="email: environment variable with smtp://user:pass@host:port")
    from_address: str | None = Field(None, description="email: From header")


class ChannelsFile(Strict):
    """config/notifications/channels.yaml."""

    channels: dict[Identifier, ChannelBinding]


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


class DeliveryPolicy(Strict):
    max_attempts: int = Field(6, ge=1, le=50)
    retry_backoff: list[int] = Field(default_factory=lambda: [5, 30, 120, 600, 1800], description="Seconds between attempts")
    lease: Duration = Field("2m", description="How long a worker owns a delivery it is sending; a killed worker's rows are retried after it")
    sweep_every: Duration = Field("30s", description="How often workers re-enqueue due deliveries and close overdue tickets from the database")


class SessionPolicy(Strict):
    idle: Duration = Field("1d", description="A web session unused this long ends")
    lifetime: Duration = Field("14d", description="A web session ends this long after sign-in, however active")


class Policies(Strict):
    default_locale: Literal["ru", "en"] = "ru"
    attachments: AttachmentPolicy = AttachmentPolicy()
    auto_close: AutoClosePolicy = AutoClosePolicy()
    telegram_rate: RateLimitPolicy = RateLimitPolicy()
    delivery: DeliveryPolicy = DeliveryPolicy()
    link_token_ttl: Duration = "15m"
    sessions: SessionPolicy = SessionPolicy()


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

    @field_validator("web", "telegram", "email", "validation")
    @classmethod
    def _no_empty(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not text.strip():
                raise ValueError(f"text '{key}' is empty")
        return value
