"""One bot token at work: composes update dedupe, the dispatcher (lock, state, conversation), replies and downloads."""
from __future__ import annotations

from telebot import TeleBot, types
from telebot.apihelper import ApiTelegramException

from channels.telegram.bindings import BotBindings, sharing_token
from channels.telegram.client import BotConfigError, make_bot
from channels.telegram.dedupe import claim_update
from channels.telegram.dispatch import Dispatcher
from channels.telegram.first_contact import COMMAND as CLAIM_COMMAND
from channels.telegram.downloads import Downloader
from channels.telegram.replies import ReplySender

CONTENT_TYPES = frozenset({"text", "photo", "document", "audio", "video", "voice", "sticker", "animation", "video_note",
                           "contact", "location"})
COMMANDS = ("createticket", "tickets", "archive", "help", "cancel", "language")


class BotApp:
    """The handlers of one token; `binding_ids` are the bindings that share it (support and/or notifications)."""

    def __init__(self, rt, token: str, binding_ids: list[str]):
        self.rt = rt
        self.token = token
        self.bindings = BotBindings(rt, binding_ids)
        self.bot: TeleBot = make_bot(rt.settings, token)
        self.downloads = Downloader(self.bot)
        self.replies = ReplySender(self.bot, self.bindings)
        self.dispatcher = Dispatcher(rt, self.bindings, self.replies, self.downloads.fetch)

    @classmethod
    def for_binding(cls, rt, binding_id: str) -> "BotApp":
        """The app of the token `binding_id` uses, covering every binding with that token."""
        token, same = sharing_token(rt, binding_id)
        return cls(rt, token, same)

    @property
    def binding_ids(self) -> tuple[str, ...]:
        return self.bindings.binding_ids

    @property
    def names(self) -> str:
        return self.bindings.names

    @property
    def serves_tickets(self) -> bool:
        return self.bindings.serves_tickets

    @property
    def albums(self):
        """The album summaries still being collected (sent when due, or by `flush_all` at a stop)."""
        return self.dispatcher.albums

    @property
    def primary(self) -> str:
        return self.bindings.primary

    # --- start-up -------------------------------------------------------------------------------

    def check(self) -> dict:
        """getMe; a missing, wrong or unreachable token becomes a BotConfigError naming the binding."""
        try:
            me = self.bot.get_me()
        except ApiTelegramException as exc:
            raise BotConfigError(f"telegram binding '{self.names}': Telegram refused the token "
                                 f"({exc.error_code} {exc.description})") from None
        except Exception as exc:  # the server is unreachable: same clear message, whatever the transport said
            raise BotConfigError(f"telegram binding '{self.names}': Bot API server "
                                 f"{self.rt.settings.telegram_api_url} unreachable ({exc.__class__.__name__})") from None
        return {"id": me.id, "username": me.username}

    def set_commands(self) -> None:
        """The Menu button: commands and their descriptions from the catalog's UI texts, per locale."""
        if not self.serves_tickets:
            return
        catalog = self.rt.catalog
        for locale in catalog.ui:
            offered = COMMANDS + (CLAIM_COMMAND,) if catalog.policies.signup.telegram_first else COMMANDS
            commands = [types.BotCommand(c, catalog.text(locale, "telegram", f"cmd_{c}")) for c in offered]
            if locale == catalog.policies.default_locale:
                self.bot.set_my_commands(commands)
            self.bot.set_my_commands(commands, language_code=locale)

    # --- updates ----------------------------------------------------------------------------------

    def handle_update(self, update: types.Update) -> bool:
        """Handle one update once: False when this update_id was already handled (a repeated delivery)."""
        if not claim_update(self.primary, update.update_id):
            return False
        self.process(update)
        return True

    def process(self, update: types.Update) -> None:
        """Handle an update already claimed: a message of a content type we take, or a button press (routed here
        rather than through telebot's handler lists, which walk some thirty update kinds for every update)."""
        if update.message is not None:
            if update.message.content_type in CONTENT_TYPES:
                self.dispatcher.on_message(update.message)
        elif update.callback_query is not None:
            self.dispatcher.on_callback(update.callback_query)
