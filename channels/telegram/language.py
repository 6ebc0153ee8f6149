"""/language: the person picks the bot's language; a linked account keeps it (User.locale), for every channel."""
from __future__ import annotations

from channels.telegram.callbacks import Language, encode
from channels.telegram.events import Ctx
from engine.sessions import user_changed


def choose(ctx: Ctx) -> None:
    """One button per language the UI texts have, each named in its own language."""
    rows = [[(ctx.catalog.text(locale, "telegram", "language_name"), encode(Language(locale)))] for locale in sorted(ctx.catalog.ui)]
    ctx.say(ctx.t("choose_language"), rows)


def chosen(ctx: Ctx, button: Language) -> None:
    """Save the language on the linked account and answer in it; an unlinked chat keeps Telegram's language."""
    if button.locale not in ctx.catalog.ui:
        return ctx.alert(ctx.t("stale_button"))
    if ctx.user is None:
        return ctx.alert(ctx.t("not_linked"))
    ctx.user.locale = button.locale
    ctx.user.save(only=[type(ctx.user).locale])
    user_changed(ctx.user)  # the portal shows this language too
    ctx.locale = button.locale
    ctx.say(ctx.t("language_set"), edit=True)
