"""The bot's side of a topic as an admin previews a draft config: the messages `/createticket` sends for it, built
by the conversation's own functions (create_flow.topic_intro, create_flow.step_prompt) from the draft catalog."""
from __future__ import annotations

from types import SimpleNamespace

from engine.catalog import Catalog
from engine.catalog.catalog import Topic
from engine.form_session import FormSession

from channels.telegram.create_flow import CHANNEL, step_prompt, topic_intro
from channels.telegram.events import Ctx


def preview_steps(catalog: Catalog, topic: Topic, locale: str) -> list[tuple[str, list[str]]] | None:
    """(text, button texts) of each message, the topic's introduction first; None when the topic is not on Telegram."""
    if CHANNEL not in topic.channels:
        return None
    ctx = Ctx(rt=SimpleNamespace(catalog=catalog), binding_id="", binding_ids=(), chat_id=0, chat_type="private",
              tg_user_id=0, tg_username=None, locale=locale, user=None, serves_tickets=True, fetch=None)
    form = FormSession.start(catalog, topic, CHANNEL)
    messages = [(topic_intro(ctx, topic), [])]
    for seq, step in enumerate(form.steps(), start=1):
        text, rows = step_prompt(ctx, form, step, seq)
        messages.append((text, [label for row in rows for label, _ in row]))
    return messages
