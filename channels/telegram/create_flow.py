"""/createticket: category -> topic -> the topic's form session step by step (engine.form_session) -> ticket.

Every step first follows a config reload (`follow_reload`): a topic removed or taken off Telegram, or fields
removed or changed, are said at once, not at «Завершить».
"""
from __future__ import annotations

from engine import search_feedback, tickets
from engine.catalog import Catalog
from engine.catalog.catalog import Topic
from engine.errors import NotFound, StorageUnavailable, ValidationFailed
from engine.form_session import Availability, FormSession, Rebase, Step
from engine.forms import validate_field
from engine.search import suggest

from channels.telegram import collect
from channels.telegram.callbacks import (
    Button, Cancel, CategoryPage, Choose, ChooseCategory, ChooseTopic, Finish, Help, Skip, encode, topic_code,
)
from channels.telegram.events import Ctx
from channels.telegram.keyboards import Rows
from channels.telegram.prompts import PROMPTS
from channels.telegram.prompts import files as files_prompt
from channels.telegram.state import ChatState, Creating

CHANNEL = "telegram"
PAGE_SIZE = 8
CHOOSING = ("category", "topic")


def cancel_row(ctx: Ctx) -> list[tuple[str, str]]:
    return [(ctx.t("cancel"), encode(Cancel()))]


def topic_by_code(catalog: Catalog, code: str) -> Topic | None:
    return next((t for t in catalog.all_topics() if CHANNEL in t.channels and topic_code(t.key) == code), None)


# --- choosing a topic -----------------------------------------------------------------------


def start(ctx: Ctx, state: ChatState) -> None:
    """Begin a new ticket; one category or one topic offered in Telegram is chosen without asking."""
    state.flow = Creating()
    categories = ctx.catalog.categories_for(CHANNEL)
    if len(categories) == 1:
        return show_topics(ctx, state, categories[0].id)
    show_categories(ctx, state, 0)


def show_categories(ctx: Ctx, state: ChatState, page: int, edit: bool = False) -> None:
    flow = state.creating
    categories = ctx.catalog.categories_for(CHANNEL)
    pages = max(1, -(-len(categories) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows: Rows = [[(ctx.local(c.title), encode(ChooseCategory(c.id)))] for c in categories[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]]
    nav = ([(ctx.t("page_prev"), encode(CategoryPage(page - 1)))] if page > 0 else []) + (
        [(ctx.t("page_next"), encode(CategoryPage(page + 1)))] if page < pages - 1 else [])
    rows += [nav] if nav else []
    flow.step, flow.page = "category", page
    ctx.say(ctx.t("choose_category"), rows + [cancel_row(ctx)], edit=edit)


def show_topics(ctx: Ctx, state: ChatState, category_id: str, edit: bool = False) -> None:
    flow = state.creating
    category = ctx.catalog.category(category_id)
    topics = category.topics_for(CHANNEL) if category else ()
    if not topics:
        return show_categories(ctx, state, flow.page, edit)
    if len(topics) == 1 and len(ctx.catalog.categories_for(CHANNEL)) == 1:
        return choose_topic(ctx, state, topics[0])
    lines = [ctx.t("choose_topic", category=ctx.local(category.title))]
    lines += [_topic_line(ctx, t) for t in topics]
    rows: Rows = [[(ctx.local(t.title), encode(ChooseTopic(topic_code(t.key))))] for t in topics]
    if len(ctx.catalog.categories_for(CHANNEL)) > 1:
        rows.append([(ctx.t("back_to_categories"), encode(CategoryPage(flow.page)))])
    flow.step, flow.category = "topic", category_id
    ctx.say("\n".join(lines), rows + [cancel_row(ctx)], edit=edit)


def show_suggestions(ctx: Ctx, state: ChatState, phrase: str) -> None:
    """The customer typed instead of choosing: offer the search's topics."""
    found = [s.topic for s in suggest(ctx.catalog, phrase, CHANNEL, limit=5)]
    flow = state.creating
    flow.searched, flow.offered = phrase[:search_feedback.MAX_PHRASE * 2], [t.key for t in found]
    if not found:
        search_feedback.record(ctx.rt, _feedback_key(ctx), phrase, now=ctx.rt.clock())
        ctx.say(ctx.t("no_suggestions"))
        return show_categories(ctx, state, state.creating.page)
    offer_topics(ctx, state, found)


def _feedback_key(ctx: Ctx) -> str:
    """The chat as a search-feedback session (rate limit only; never stored)."""
    return f"tg:{ctx.binding_id}:{ctx.chat_id}"


def _topic_line(ctx: Ctx, topic: Topic) -> str:
    title, description = ctx.local(topic.title), ctx.local(topic.description)
    return ctx.t("topic_line", title=title, description=description) if description else f"• {title}"


def offer_topics(ctx: Ctx, state: ChatState, topics: list[Topic]) -> None:
    lines = [ctx.t("suggestions")] + [_topic_line(ctx, t) for t in topics]
    rows: Rows = [[(ctx.local(t.title), encode(ChooseTopic(topic_code(t.key))))] for t in topics]
    rows.append([(ctx.t("back_to_categories"), encode(CategoryPage(0)))])
    ctx.say("\n".join(lines), rows + [cancel_row(ctx)])


def choose_topic(ctx: Ctx, state: ChatState, topic: Topic) -> None:
    """Start the topic's form; answers kept from a topic a reload took away count where the new form takes them."""
    flow = state.creating
    if flow.searched and topic.key not in flow.offered:  # the search did not lead here: tell business staff
        search_feedback.record(ctx.rt, _feedback_key(ctx), flow.searched, topic.key, now=ctx.rt.clock())
    flow.searched, flow.offered = "", []
    flow.form = FormSession.start(ctx.catalog, topic, CHANNEL)
    for field in flow.form.fields:
        if field.id in flow.kept and not validate_field(ctx.catalog, field, flow.kept[field.id], ctx.locale):
            flow.form.answer(field.id, flow.kept[field.id])
    flow.step, flow.index, flow.kept = "field", -1, {}
    ctx.say(topic_intro(ctx, topic))
    advance(ctx, state)


def topic_intro(ctx: Ctx, topic: Topic) -> str:
    """What the bot says when a topic is chosen, before the first question."""
    return ctx.t("topic_chosen", topic=ctx.local(topic.title), description=ctx.local(topic.description)).strip()


# --- the form session's steps one by one ------------------------------------------------------


def current_step(state: ChatState) -> Step | None:
    flow = state.creating
    if flow is None or flow.step != "field":
        return None
    return flow.form.step(flow.index)


def advance(ctx: Ctx, state: ChatState) -> None:
    """Ask the first step still due (one a reload added or reopened before the current one comes first); after
    the last one, create the ticket."""
    flow = state.creating
    step = flow.form.next_step()
    if step is None:
        flow.index = len(flow.form.fields) - 1
        return finish(ctx, state)
    flow.index = step.index
    ask(ctx, state)


def ask(ctx: Ctx, state: ChatState) -> None:
    """Ask the current step with its type's prompt, «Где найти?» when it has help, «Пропустить» when optional."""
    flow = state.creating
    flow.seq = flow.seq + 1
    ctx.say(*step_prompt(ctx, flow.form, current_step(state), flow.seq))


def step_prompt(ctx: Ctx, form: FormSession, step: Step, seq: int) -> tuple[str, Rows]:
    """The message and buttons that ask `step` (the conversation, and the admin's preview of a draft config)."""
    field = step.field
    if step.collects_files:
        text, rows = files_prompt(ctx, field, seq, form.file_limits.max_files)
    else:
        text, rows = PROMPTS[field.type](ctx, field, seq)
        if step.skippable:
            text += "\n" + ctx.t("optional_hint")
            rows.append([(ctx.t("skip"), encode(Skip(seq)))])
    if field.help:
        rows.insert(0, [(ctx.t("where_to_find"), encode(Help(seq)))])
    return text, rows + [cancel_row(ctx)]


def answer(ctx: Ctx, state: ChatState, raw: object) -> None:
    """A typed or pressed answer to the current (non-collecting) step: the engine decides if it is valid."""
    field = current_step(state).field
    error = validate_field(ctx.catalog, field, raw, ctx.locale)
    if error:
        ctx.say(error)
        return ask(ctx, state)
    state.creating.form.answer(field.id, raw)
    advance(ctx, state)


def on_text(ctx: Ctx, state: ChatState, text: str) -> None:
    flow = state.creating
    if flow.step in CHOOSING:
        return show_suggestions(ctx, state, text)
    step = current_step(state)
    if not step.collects_files:
        return answer(ctx, state, text)
    error = collect.add_text(ctx, flow, text, flow.form.text_field(step))
    ctx.say(error or ctx.t("text_added"), [[(ctx.t("finish"), encode(Finish(flow.seq)))], cancel_row(ctx)])


def on_file(ctx: Ctx, state: ChatState, ref, caption: str) -> None:
    step = current_step(state)
    if step is None or not step.collects_files:
        return ctx.say(ctx.t("unsupported_content"))
    flow = state.creating
    if caption:
        collect.add_text(ctx, flow, caption, flow.form.text_field(step))
    files_field = flow.form.files_field
    refusal = collect.add_file(ctx, flow, ref, files_field)
    ctx.file_reply(ref, refusal, len(flow.files), files_field.max_files,
                   [[(ctx.t("finish"), encode(Finish(flow.seq)))], cancel_row(ctx)])


def on_button(ctx: Ctx, state: ChatState, button: Button) -> bool:
    """Handle this flow's buttons; False when the button does not belong to the current step (stale)."""
    flow = state.creating
    if flow is None:
        return False
    if flow.step in CHOOSING:
        return _choosing_button(ctx, state, button)
    step = current_step(state)
    if step is None or getattr(button, "seq", None) != flow.seq:
        return False
    field = step.field
    if isinstance(button, Help):
        ctx.say(ctx.local(field.help) or ctx.t("no_help"))
    elif isinstance(button, Skip) and step.skippable:
        flow.form.skip(field.id)
        advance(ctx, state)
    elif isinstance(button, Choose) and field.type == "boolean" and button.choice in ("y", "n"):
        answer(ctx, state, button.choice == "y")
    elif isinstance(button, Choose) and field.type == "select" and button.choice.isdigit() \
            and int(button.choice) < len(field.options):
        answer(ctx, state, field.options[int(button.choice)].value)
    elif isinstance(button, Finish) and step.collects_files:
        finish_collector(ctx, state, step)
    else:
        return False
    return True


def _choosing_button(ctx: Ctx, state: ChatState, button: Button) -> bool:
    if isinstance(button, CategoryPage):
        show_categories(ctx, state, button.page, edit=True)
    elif isinstance(button, ChooseCategory) and ctx.catalog.category(button.category_id):
        show_topics(ctx, state, button.category_id, edit=True)
    elif isinstance(button, ChooseTopic) and (topic := topic_by_code(ctx.catalog, button.code)) is not None:
        choose_topic(ctx, state, topic)
    else:
        return False
    return True


def finish_collector(ctx: Ctx, state: ChatState, step: Step) -> None:
    """«Завершить» on the collecting step: the message must be valid, then the remaining steps or the ticket."""
    flow = state.creating
    if step.id == "message":
        error = validate_field(ctx.catalog, step.field, flow.text, ctx.locale)
        if error:
            return ctx.say(error if flow.text else ctx.t("finish_first"))
        flow.form.answer(step.id, flow.text)
    else:
        flow.form.mark_done(step.id)
    advance(ctx, state)


# --- creating the ticket --------------------------------------------------------------------


def finish(ctx: Ctx, state: ChatState) -> None:
    """Create the ticket (idempotent per conversation); on refusal re-ask the first wrong field."""
    flow = state.creating
    try:
        ticket = tickets.create_ticket(ctx.rt, ctx.user, flow.form.topic_key, flow.form.values, collect.uploads(ctx, flow),
                                       CHANNEL, idempotency_key=f"tg:{flow.conv}", locale=ctx.locale)
    except NotFound:
        return topic_lost(ctx, state, Availability.GONE)
    except ValidationFailed as failed:
        return reask_after_refusal(ctx, state, failed.errors)
    except StorageUnavailable:  # nothing was created; the answers and files (by file_id) stay for another try
        ctx.say(ctx.t("storage_unavailable"))
        return ask_files_again(ctx, state)
    state.clear()
    ctx.toast(ctx.t("ticket_created", number=ticket.number))
    ctx.say(ctx.t("ticket_created", number=ticket.number))


def ask_files_again(ctx: Ctx, state: ChatState) -> None:
    """Ask the step collecting the files again, everything kept: its «Завершить» tries to create the ticket once more."""
    flow = state.creating
    flow.index = next((step.index for step in flow.form.steps() if step.collects_files), flow.index)
    ask(ctx, state)


def reask_after_refusal(ctx: Ctx, state: ChatState, errors: dict) -> None:
    """The engine refused the whole submission (e.g. the form changed): show why and ask again from there."""
    flow = state.creating
    form = flow.form.rebuilt(ctx.catalog)
    if form is None:
        return topic_lost(ctx, state, Availability.GONE)
    ids = [f.id for f in form.fields]
    first = min((ids.index(k) for k in errors if k in ids), default=0)
    if ids[first] == "attachments" and "message" in ids:
        first = ids.index("message")
    form.reopen(ids[first])
    if ids[first] in ("message", "attachments") and "attachments" in errors:
        flow.files = []
    flow.form, flow.index = form, first
    ctx.say("\n".join(errors.values()))
    ask(ctx, state)


# --- a reload in the middle of the flow -----------------------------------------------------


def follow_reload(ctx: Ctx, state: ChatState) -> bool:
    """At every step: is the topic still offered here, with the fields the answers were given to?

    A lost topic is said at once and the closest ones offered (its answers kept for the next); changed fields are
    said and asked again where the answer no longer fits. False when that answered this update (do not go on).
    """
    flow = state.creating
    if flow is None or flow.form is None:
        return True
    availability = flow.form.availability(ctx.catalog)
    if availability in (Availability.GONE, Availability.UNAVAILABLE):
        topic_lost(ctx, state, availability)
        return False
    if availability is Availability.CURRENT or flow.step != "field":
        return True
    rebase = flow.form.rebased(ctx.catalog)
    return True if rebase is None else _move_onto(ctx, state, rebase)


def _move_onto(ctx: Ctx, state: ChatState, rebase: Rebase) -> bool:
    """Go on with the running form. The question being asked, if still there as it was, takes this update's answer
    (questions now due before it come next); otherwise the first question due is asked now."""
    flow = state.creating
    asked = flow.form.fields[flow.index].id
    flow.form = rebase.session
    for field in rebase.removed:
        ctx.say(ctx.t("field_removed", field=ctx.local(field.label)))
    for field in rebase.refused:
        ctx.say(ctx.t("field_changed", field=ctx.local(field.label)))
    same = next((s for s in flow.form.steps() if s.id == asked), None)
    if same is not None and asked not in rebase.changed and asked not in flow.form.done:
        flow.index = same.index
        return True
    advance(ctx, state)
    return False


def topic_lost(ctx: Ctx, state: ChatState, availability: Availability) -> None:
    """The topic was removed or taken off Telegram: say so, keep the answers, offer the closest topics."""
    flow, lost = state.creating, state.creating.form
    ctx.say(ctx.t("topic_gone" if availability is Availability.GONE else "topic_unavailable", topic=ctx.local(lost.topic_title)))
    kept = {k: v for k, v in lost.values.items() if k in lost.done}
    state.flow = Creating(seq=flow.seq, text=flow.text, files=flow.files, kept=kept)
    offer_instead(ctx, state, lost)


def offer_instead(ctx: Ctx, state: ChatState, lost: FormSession) -> None:
    """Topics found by the lost one's title in its category, else that category's topics, else any found, else
    the category list."""
    category_id = lost.topic_key.split("/", 1)[0]
    found = [s.topic for s in suggest(ctx.catalog, lost.topic_title, CHANNEL, limit=5) if s.topic.key != lost.topic_key]
    near = [t for t in found if t.category_id == category_id]
    category = ctx.catalog.category(category_id)
    if near:
        return offer_topics(ctx, state, near)
    if category is not None and category.topics_for(CHANNEL):
        return show_topics(ctx, state, category_id)
    if found:
        return offer_topics(ctx, state, found)
    show_categories(ctx, state, 0)
