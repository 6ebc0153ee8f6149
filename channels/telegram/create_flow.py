"""/createticket as a state machine over the catalog: category -> topic -> fields -> message and files -> ticket."""
from __future__ import annotations

import uuid

from engine import tickets
from engine.catalog.catalog import Field
from engine.errors import NotFound, ValidationFailed
from engine.forms import clean_field, validate_field
from engine.search import suggest

from channels.telegram import collect
from channels.telegram.events import Ctx
from channels.telegram.fieldsnap import load_field, snapshot, topic_by_code, topic_code
from channels.telegram.keyboards import Rows
from channels.telegram.prompts import PROMPTS
from channels.telegram.prompts import files as files_prompt

CHANNEL = "telegram"
PAGE_SIZE = 8


def cancel_row(ctx: Ctx) -> list[tuple[str, str]]:
    return [(ctx.t("cancel"), "x")]


# --- choosing a topic -----------------------------------------------------------------------


def start(ctx: Ctx, state: dict) -> None:
    """Begin a new ticket; one category or one topic offered in Telegram is chosen without asking."""
    state.clear()
    state.update(flow="create", step="category", conv=uuid.uuid4().hex, seq=0)
    categories = ctx.catalog.categories_for(CHANNEL)
    if len(categories) == 1:
        return show_topics(ctx, state, categories[0].id)
    show_categories(ctx, state, 0)


def show_categories(ctx: Ctx, state: dict, page: int, edit: bool = False) -> None:
    categories = ctx.catalog.categories_for(CHANNEL)
    pages = max(1, -(-len(categories) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows: Rows = [[(c.title, f"c:{c.id}")] for c in categories[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]]
    nav = ([(ctx.t("page_prev"), f"cp:{page - 1}")] if page > 0 else []) + (
        [(ctx.t("page_next"), f"cp:{page + 1}")] if page < pages - 1 else [])
    rows += [nav] if nav else []
    state.update(step="category", page=page)
    ctx.say(ctx.t("choose_category"), rows + [cancel_row(ctx)], edit=edit)


def show_topics(ctx: Ctx, state: dict, category_id: str, edit: bool = False) -> None:
    category = ctx.catalog.category(category_id)
    topics = category.topics_for(CHANNEL) if category else ()
    if not topics:
        return show_categories(ctx, state, state.get("page", 0), edit)
    if len(topics) == 1 and len(ctx.catalog.categories_for(CHANNEL)) == 1:
        return choose_topic(ctx, state, topics[0])
    lines = [ctx.t("choose_topic", category=category.title)]
    lines += [ctx.t("topic_line", title=t.title, description=t.description) if t.description else f"• {t.title}"
              for t in topics]
    rows: Rows = [[(t.title, f"t:{topic_code(t.key)}")] for t in topics]
    if len(ctx.catalog.categories_for(CHANNEL)) > 1:
        rows.append([(ctx.t("back_to_categories"), f"cp:{state.get('page', 0)}")])
    state.update(step="topic", category=category_id)
    ctx.say("\n".join(lines), rows + [cancel_row(ctx)], edit=edit)


def show_suggestions(ctx: Ctx, state: dict, phrase: str) -> None:
    """The customer typed instead of choosing: offer the search's topics."""
    found = [s.topic for s in suggest(ctx.catalog, phrase, CHANNEL, limit=5)]
    if not found:
        ctx.say(ctx.t("no_suggestions"))
        return show_categories(ctx, state, state.get("page", 0))
    lines = [ctx.t("suggestions")] + [ctx.t("topic_line", title=t.title, description=t.description) for t in found]
    rows: Rows = [[(t.title, f"t:{topic_code(t.key)}")] for t in found]
    rows.append([(ctx.t("back_to_categories"), "cp:0")])
    ctx.say("\n".join(lines), rows + [cancel_row(ctx)])


def choose_topic(ctx: Ctx, state: dict, topic) -> None:
    snap = snapshot(ctx.catalog, topic)
    state.update(step="field", snap=snap, index=-1, values={}, done=[], text="", files=[])
    ctx.say(ctx.t("topic_chosen", topic=topic.title, description=topic.description).strip())
    advance(ctx, state)


# --- fields one by one ----------------------------------------------------------------------


def _fields(state: dict) -> list[Field]:
    return [load_field(f) for f in state["snap"]["fields"]]


def _has_message(fields: list[Field]) -> bool:
    return any(f.id == "message" for f in fields)


def _is_collector(field: Field, fields: list[Field]) -> bool:
    """The step that takes text plus files: the message field, or a lone attachments field."""
    return field.id == "message" or (field.type == "attachments" and not _has_message(fields))


def _files_field(ctx: Ctx, fields: list[Field]) -> Field:
    return next((f for f in fields if f.type == "attachments"), None) or collect.policy_files_field(ctx.catalog)


def _clean_values(ctx: Ctx, fields: list[Field], values: dict) -> dict:
    by_id = {f.id: f for f in fields}
    return {k: clean_field(ctx.catalog, by_id[k], v, ctx.locale)[0] for k, v in values.items() if k in by_id}


def advance(ctx: Ctx, state: dict) -> None:
    """Move to the next visible field and ask it; after the last one, create the ticket."""
    fields = _fields(state)
    clean = _clean_values(ctx, fields, state["values"])
    index = state["index"] + 1
    while index < len(fields):
        field = fields[index]
        merged = field.type == "attachments" and _has_message(fields)
        if not merged and field.id not in state.setdefault("done", []) and field.is_visible(clean):
            break
        index += 1
    state["index"] = index
    if index >= len(fields):
        return finish(ctx, state)
    ask(ctx, state)


def ask(ctx: Ctx, state: dict) -> None:
    """Ask the current field with its type's prompt, «Где найти?» when it has help, «Пропустить» when optional."""
    fields = _fields(state)
    field = fields[state["index"]]
    state["seq"] = seq = state.get("seq", 0) + 1
    if _is_collector(field, fields):
        text, rows = files_prompt(ctx, field, seq, _files_field(ctx, fields).max_files)
    else:
        text, rows = PROMPTS[field.type](ctx, field, seq)
        if field.skippable and not field.required:
            text += "\n" + ctx.t("optional_hint")
            rows.append([(ctx.t("skip"), f"s:{seq}")])
    if field.help:
        rows.insert(0, [(ctx.t("where_to_find"), f"h:{seq}")])
    ctx.say(text, rows + [cancel_row(ctx)])


def answer(ctx: Ctx, state: dict, raw: object) -> None:
    """A typed or pressed answer to the current (non-collector) field: the engine decides if it is valid."""
    field = _fields(state)[state["index"]]
    error = validate_field(ctx.catalog, field, raw, ctx.locale)
    if error:
        ctx.say(error)
        return ask(ctx, state)
    state["values"][field.id] = raw
    _done(state, field.id)
    advance(ctx, state)


def current_field(state: dict) -> tuple[Field, list[Field]] | None:
    if state.get("flow") != "create" or state.get("step") != "field":
        return None
    fields = _fields(state)
    return fields[state["index"]], fields


def on_text(ctx: Ctx, state: dict, text: str) -> None:
    if state.get("step") in ("category", "topic"):
        return show_suggestions(ctx, state, text)
    field, fields = current_field(state)
    if not _is_collector(field, fields):
        return answer(ctx, state, text)
    text_field = field if field.id == "message" else None
    error = collect.add_text(ctx, state, text, text_field)
    ctx.say(error or ctx.t("text_added"), [[(ctx.t("finish"), f"f:{state['seq']}")], cancel_row(ctx)])


def on_file(ctx: Ctx, state: dict, ref, caption: str) -> None:
    current = current_field(state)
    if current is None or not _is_collector(*current):
        return ctx.say(ctx.t("unsupported_content"))
    field, fields = current
    if caption:
        collect.add_text(ctx, state, caption, field if field.id == "message" else None)
    files_field = _files_field(ctx, fields)
    refusal = collect.add_file(ctx, state, ref, files_field)
    text = refusal or ctx.t("file_added", name=ref.name, count=len(state["files"]), max_files=files_field.max_files)
    ctx.say(text, [[(ctx.t("finish"), f"f:{state['seq']}")], cancel_row(ctx)])


def on_button(ctx: Ctx, state: dict, data: str) -> bool:
    """Handle this flow's buttons; False when the button does not belong to the current step (stale)."""
    kind, _, rest = data.partition(":")
    if kind == "cp" and state.get("step") in ("category", "topic") and rest.isdigit():
        show_categories(ctx, state, int(rest), edit=True)
        return True
    if kind == "c" and state.get("step") in ("category", "topic") and ctx.catalog.category(rest):
        show_topics(ctx, state, rest, edit=True)
        return True
    if kind == "t" and state.get("step") in ("category", "topic"):
        topic = topic_by_code(ctx.catalog, rest, CHANNEL)
        if topic is None:
            return False
        choose_topic(ctx, state, topic)
        return True
    current = current_field(state)
    seq, _, arg = rest.partition(":")
    if current is None or seq != str(state.get("seq")):
        return False
    field, fields = current
    if kind == "h":
        ctx.say(field.help or ctx.t("no_help"))
        return True
    if kind == "s" and field.skippable and not field.required:
        state["values"].pop(field.id, None)
        _done(state, field.id)
        advance(ctx, state)
        return True
    if kind == "o" and field.type == "boolean" and arg in ("y", "n"):
        answer(ctx, state, arg == "y")
        return True
    if kind == "o" and field.type == "select" and arg.isdigit() and int(arg) < len(field.options):
        answer(ctx, state, field.options[int(arg)].value)
        return True
    if kind == "f" and _is_collector(field, fields):
        return finish_collector(ctx, state, field)
    return False


def finish_collector(ctx: Ctx, state: dict, field: Field) -> bool:
    """"Завершить" on the message step: the message must be valid, then the remaining fields or the ticket."""
    if field.id == "message":
        error = validate_field(ctx.catalog, field, state.get("text", ""), ctx.locale)
        if error:
            ctx.say(error if state.get("text") else ctx.t("finish_first"))
            return True
        state["values"]["message"] = state["text"]
    _done(state, field.id)
    advance(ctx, state)
    return True


def _done(state: dict, field_id: str) -> None:
    """Answered or skipped: not asked again when a refusal sends the customer back to an earlier field."""
    if field_id not in state.setdefault("done", []):
        state["done"].append(field_id)


# --- creating the ticket --------------------------------------------------------------------


def finish(ctx: Ctx, state: dict) -> None:
    """Create the ticket (idempotent per conversation); on refusal re-ask the first wrong field."""
    topic_key = state["snap"]["topic"]
    try:
        ticket = tickets.create_ticket(ctx.rt, ctx.user, topic_key, state["values"], collect.uploads(ctx, state),
                                       CHANNEL, idempotency_key=f"tg:{state['conv']}", locale=ctx.locale)
    except NotFound:
        return topic_gone(ctx, state)
    except ValidationFailed as failed:
        return reask_after_refusal(ctx, state, failed.errors)
    state.clear()
    ctx.toast(ctx.t("ticket_created", number=ticket.number))
    ctx.say(ctx.t("ticket_created", number=ticket.number))


def reask_after_refusal(ctx: Ctx, state: dict, errors: dict) -> None:
    """The engine refused the whole submission (e.g. the form changed): show why and ask again from there."""
    topic = ctx.catalog.topic(state["snap"]["topic"])
    if topic is None:
        return topic_gone(ctx, state)
    state["snap"] = snapshot(ctx.catalog, topic)
    ids = [f["id"] for f in state["snap"]["fields"]]
    first = min((ids.index(k) for k in errors if k in ids), default=0)
    if ids[first] == "attachments" and "message" in ids:
        first = ids.index("message")
    state["values"].pop(ids[first], None)
    state["done"] = [d for d in state.get("done", []) if d != ids[first]]
    if ids[first] in ("message", "attachments"):
        state["files"] = [] if "attachments" in errors else state.get("files", [])
    ctx.say("\n".join(errors.values()))
    state["index"] = first
    ask(ctx, state)


def topic_gone(ctx: Ctx, state: dict) -> None:
    title = state.get("snap", {}).get("title", "")
    ctx.say(ctx.t("topic_gone", topic=title))
    start(ctx, state)


def check_topic(ctx: Ctx, state: dict) -> bool:
    """False (after restarting politely) when a reload removed the topic this conversation is filling in."""
    if state.get("flow") == "create" and state.get("snap") and ctx.catalog.topic(state["snap"]["topic"]) is None:
        topic_gone(ctx, state)
        return False
    return True
