"""A local fake Telegram Bot API server speaking the real HTTP protocol, for tests and benchmarks.

Requests go to `{url}/bot<token>/<method>` and file downloads to `{url}/file/bot<token>/<file_path>`,
exactly as api.telegram.org and a self-hosted telegram-bot-api server serve them. Parameters are read
from the query string, urlencoded or multipart form bodies and JSON bodies (telebot sends the query
string). The fake records every call, lets a test inject updates and program failures, and validates
what real Telegram validates, so a bot that passes here does not break on the real server.

    with FakeBotAPI(tokens=["1:AAA"]) as api:
        api.user_text("1:AAA", chat_id=42, text="/start")
        ...
        api.sent_to(42)  # messages the bot sent to chat 42
"""
from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.telegram.fake_bot_methods import ApiError, BotMethods
from tests.waiting import HANG_CAP, wait_for


@dataclass
class Call:
    """One request the fake received."""

    token: str
    method: str
    params: dict
    files: dict  # field name -> (filename, bytes)
    at: float  # time.monotonic() when received
    status: int = 200
    result: Any = None
    wall: float = field(default_factory=time.time)  # wall-clock time when received (a test's frozen clock, if any)


@dataclass
class Failure:
    """A programmed failure: the next `times` matching calls fail this way."""

    method: str
    kind: str  # "429" | "403" | "400" | "5xx" | "timeout" | "slow" (answered normally after `delay` s)
    times: int
    chat_id: int | None
    token: str | None
    retry_after: int
    delay: float


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    size: int


@dataclass
class Bot:
    """Server-side state of one bot token."""

    token: str
    username: str
    updates: list = field(default_factory=list)
    webhook_url: str = ""
    commands: list = field(default_factory=list)
    interrupted: bool = False  # the next (or current) long poll returns at once
    confirmed: int = 0  # the bot has handled every update with a smaller id (its last getUpdates offset)
    cond: threading.Condition = field(default_factory=threading.Condition)

    @property
    def id(self) -> int:
        return int(self.token.split(":")[0])


SEND_METHODS = {"sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup", "sendAudio", "sendVideo", "sendVoice",
                "sendAnimation", "sendSticker", "copyMessage", "forwardMessage"}


@dataclass
class FloodLimits:
    """Telegram's published sending limits, enforced when a test opts in (FakeBotAPI.enforce_limits).

    A send is timed with the fake's monotonic clock as its request is read; `tolerance` seconds absorb the fake's own
    request-handling jitter (threads reading requests in a slightly different order than they arrived), nothing more.
    """

    per_chat_per_second: float = 1.0
    per_bot_per_second: float = 30
    per_group_per_minute: float = 20
    tolerance: float = 0.02
    sends: dict = field(default_factory=dict)  # (token, chat_id) -> accepted send times; (token, None) for the bot
    refused: list = field(default_factory=list)  # Calls answered 429 by these limits

    def check(self, token: str, chat_id: int, at: float) -> int | None:
        """None when the send is within the limits (and counts it), else the retry_after to answer with."""
        chat = self.sends.setdefault((token, chat_id), [])
        bot = self.sends.setdefault((token, None), [])
        waits = []
        if chat and at - chat[-1] < 1 / self.per_chat_per_second - self.tolerance:
            waits.append(chat[-1] + 1 / self.per_chat_per_second - at)
        recent = [t for t in bot[-int(self.per_bot_per_second) - 1:] if t > at - 1 + self.tolerance]
        if len(recent) >= self.per_bot_per_second:
            waits.append(recent[0] + 1 - at)
        if chat_id < 0:
            minute = [t for t in chat[-int(self.per_group_per_minute) - 1:] if t > at - 60 + self.tolerance]
            if len(minute) >= self.per_group_per_minute:
                waits.append(minute[0] + 60 - at)
        if waits:
            return max(1, math.ceil(max(waits)))
        chat.append(at)
        bot.append(at)
        return None


class FakeBotAPI(BotMethods):
    """The fake server: start/stop (or use as a context manager), inject updates, inspect calls."""

    def __init__(self, tokens: list[str] | dict[str, str] = (), host: str = "127.0.0.1"):
        names = tokens if isinstance(tokens, dict) else {t: f"bot{t.split(':')[0]}_bot" for t in tokens}
        self.bots: dict[str, Bot] = {t: Bot(token=t, username=u) for t, u in names.items()}
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.blocked: set[int] = set()  # chats whose user blocked the bot: permanent 403
        self.missing_chats: set[int] = set()  # chats Telegram does not know: permanent 400
        self.files: dict[str, StoredFile] = {}
        self.messages: dict[tuple[str, int, int], dict] = {}  # (token, chat_id, message_id) -> message
        self.callbacks: dict[str, dict] = {}  # callback query id -> {"answered": bool, "token", "data"}
        self.latest: dict[tuple[str, int], dict] = {}  # (token, chat_id) -> the newest message the bot sent there
        self.limits: FloodLimits | None = None  # Telegram's flood limits, when a test opts in
        self._lock = threading.RLock()
        self._ids = count(1)
        self._update_ids = count(100001)
        self._message_ids: dict[int, count] = {}
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeBotAPI":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-bot-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for bot in self.bots.values():
            with bot.cond:
                bot.cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(5)

    def __enter__(self) -> "FakeBotAPI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def interrupt_polls(self) -> None:
        """End every pending long poll now (lets a test stop its bots without waiting out the poll timeout)."""
        for bot in self.bots.values():
            with bot.cond:
                bot.interrupted = True
                bot.cond.notify_all()

    def enforce_limits(self, **limits) -> FloodLimits:
        """From now on answer sends over Telegram's limits (per chat, per bot, per group) with 429 and retry_after."""
        self.limits = FloodLimits(**limits)
        return self.limits

    def add_bot(self, token: str, username: str | None = None) -> Bot:
        with self._lock:
            bot = self.bots[token] = Bot(token=token, username=username or f"bot{token.split(':')[0]}_bot")
            return bot

    # --- injecting what users do -------------------------------------------------------------------

    @staticmethod
    def user(user_id: int, username: str | None = None, first_name: str = "Test", language_code: str = "ru") -> dict:
        data = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}
        if username:
            data["username"] = username
        return data

    def _chat(self, chat_id: int, chat_type: str, user: dict) -> dict:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": user["first_name"], **(
                {"username": user["username"]} if "username" in user else {})}
        return {"id": chat_id, "type": chat_type, "title": "Group"}

    def _next_message_id(self, chat_id: int) -> int:
        with self._lock:
            return next(self._message_ids.setdefault(chat_id, count(1)))

    def push_update(self, token: str, update: dict) -> int:
        """Queue a raw update (update_id assigned unless given) and wake long pollers; returns the id."""
        bot = self.bots[token]
        with bot.cond:
            update.setdefault("update_id", next(self._update_ids))
            bot.updates.append(update)
            bot.cond.notify_all()
        return update["update_id"]

    def user_message(self, token: str, chat_id: int, *, user: dict | None = None, chat_type: str = "private",
                     **content) -> int:
        """Inject a message update; `content` are Message fields (text, caption, photo, document, ...)."""
        user = user or self.user(chat_id)
        message = {"message_id": self._next_message_id(chat_id), "from": user, "date": int(time.time()),
                   "chat": self._chat(chat_id, chat_type, user), **content}
        text = content.get("text", "")
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self.push_update(token, {"message": message})

    def user_text(self, token: str, chat_id: int, text: str, **kw) -> int:
        return self.user_message(token, chat_id, text=text, **kw)

    def add_file(self, data: bytes | None = None, *, size: int | None = None, kind: str = "documents",
                 name: str = "file.bin") -> StoredFile:
        """Store a file the fake serves via getFile and /file/; `size` alone fakes a big file without bytes."""
        n = next(self._ids)
        stored = StoredFile(file_id=f"FILE{n:06d}", file_unique_id=f"U{n:06d}", file_path=f"{kind}/file_{n}_{name}",
                            data=data or b"", size=size if size is not None else len(data or b""))
        with self._lock:
            self.files[stored.file_id] = stored
        return stored

    def user_document(self, token: str, chat_id: int, data: bytes | None, filename: str, mime: str = "application/pdf",
                      caption: str | None = None, size: int | None = None, media_group_id: str | None = None,
                      **kw) -> int:
        stored = self.add_file(data, size=size, name=filename)
        content = {"document": {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                                "file_name": filename, "mime_type": mime, "file_size": stored.size}}
        if caption is not None:
            content["caption"] = caption
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self.user_message(token, chat_id, **content, **kw)

    def user_photo(self, token: str, chat_id: int, data: bytes, caption: str | None = None,
                   media_group_id: str | None = None, **kw) -> int:
        """A photo arrives as several sizes; the bot should take the largest."""
        small = self.add_file(data[: max(1, len(data) // 4)], kind="photos", name="small.jpg")
        large = self.add_file(data, kind="photos", name="large.jpg")
        sizes = [{"file_id": f.file_id, "file_unique_id": f.file_unique_id, "file_size": f.size, "width": w,
                  "height": w} for f, w in ((small, 90), (large, 800))]
        content: dict = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self.user_message(token, chat_id, **content, **kw)

    def user_album(self, token: str, chat_id: int, photos: list[bytes], caption: str | None = None, **kw) -> list[int]:
        """Several photos sharing a media_group_id: one update per photo, as Telegram sends them."""
        group = f"MG{next(self._ids)}"
        return [self.user_photo(token, chat_id, data, caption=caption if i == 0 else None, media_group_id=group, **kw)
                for i, data in enumerate(photos)]

    def press(self, token: str, chat_id: int, data: str, message_id: int | None = None, user: dict | None = None) -> int:
        """Press an inline button: a callback_query update on the given (default: the last) bot message."""
        user = user or self.user(chat_id)
        if message_id is None:
            message_id = self.last_sent(chat_id, token)["message_id"]
        with self._lock:
            message = self.messages.get((token, chat_id, message_id), {"message_id": message_id, "chat": {"id": chat_id}})
            query_id = str(next(self._ids))
            self.callbacks[query_id] = {"answered": False, "token": token, "data": data, "chat_id": chat_id}
        return self.push_update(token, {"callback_query": {"id": query_id, "from": user, "message": message,
                                                            "chat_instance": str(chat_id), "data": data}})

    def press_button(self, token: str, chat_id: int, text: str, message: dict | None = None) -> int:
        """Press the inline button captioned `text` on `message` (default: the newest bot message having it)."""
        candidates = [message] if message else reversed(self.sent_to(chat_id, token))
        for msg in candidates:
            for caption, data in self.buttons(msg):
                if caption == text:
                    return self.press(token, chat_id, data, message_id=msg["message_id"])
        raise AssertionError(f"no button {text!r} in chat {chat_id}; last: {self.last_sent(chat_id, token)}")

    # --- programming failures ----------------------------------------------------------------------

    def fail(self, method: str, kind: str, *, times: int = 1, chat_id: int | None = None, token: str | None = None,
             retry_after: int = 3, delay: float = 5.0) -> None:
        """The next `times` calls of `method` (optionally for one chat/token) fail with `kind`."""
        with self._lock:
            self.failures.append(Failure(method, kind, times, chat_id, token, retry_after, delay))

    def _take_failure(self, token: str, method: str, params: dict) -> Failure | None:
        with self._lock:
            for failure in self.failures:
                if failure.method == method and failure.times > 0 and failure.token in (None, token) and (
                        failure.chat_id is None or str(failure.chat_id) == str(params.get("chat_id"))):
                    failure.times -= 1
                    return failure
        return None

    # --- inspecting what the bot did ---------------------------------------------------------------

    def calls_of(self, method: str, token: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (token is None or c.token == token)]

    def sent_to(self, chat_id: int, token: str | None = None) -> list[dict]:
        """Messages the bot(s) successfully sent to a chat, oldest first, as they stand now (edits applied)."""
        with self._lock:
            return [m for (t, c, _), m in sorted(self.messages.items(), key=lambda kv: kv[0][2])
                    if c == chat_id and m.get("from", {}).get("is_bot") and (token is None or t == token)]

    def last_sent(self, chat_id: int, token: str | None = None) -> dict:
        sent = self.sent_to(chat_id, token)
        if not sent:
            raise AssertionError(f"nothing sent to chat {chat_id}")
        return sent[-1]

    @staticmethod
    def buttons(message: dict) -> list[tuple[str, str]]:
        """(caption, callback_data) of every inline button of a message."""
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def unanswered_callbacks(self) -> list[dict]:
        with self._lock:
            return [dict(v, id=k) for k, v in self.callbacks.items() if not v["answered"]]

    def pending_updates(self, token: str) -> int:
        with self._lock:
            return len(self.bots[token].updates)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = HANG_CAP, interval: float = 0.01) -> Any:
        """Poll `predicate` until it returns a truthy value; AssertionError after `timeout` s (a hang, not slowness)."""
        return wait_for(predicate, timeout, interval)

    def wait_sent(self, chat_id: int, n: int, token: str | None = None, timeout: float = HANG_CAP) -> list[dict]:
        """Wait until at least `n` messages were sent to the chat; returns them all."""
        return self.wait_for(lambda: (s := self.sent_to(chat_id, token)) and len(s) >= n and s, timeout)

    def wait_idle(self, token: str, timeout: float = HANG_CAP) -> None:
        """Wait until the bot confirmed (offset past) every queued update, i.e. handled them all."""
        bot = self.bots[token]
        self.wait_for(lambda: not bot.updates, timeout)

    # --- HTTP ------------------------------------------------------------------------------------------

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stall

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                fake._serve(self)

            def do_POST(self):
                fake._serve(self)

        return Handler

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        if self._stopping.is_set():  # a stopped server is gone, also for connections kept alive
            req.close_connection = True
            return None
        parts = urlsplit(req.path)
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        segments = parts.path.lstrip("/").split("/")
        if segments[0] == "file" and len(segments) >= 3 and segments[1].startswith("bot"):
            return self._serve_file(req, segments[1][3:], unquote("/".join(segments[2:])))
        if len(segments) != 2 or not segments[0].startswith("bot"):
            return self._reply(req, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        token, method = segments[0][3:], segments[1]
        params, files = self._parse_params(req, parts.query, body)
        call = Call(token=token, method=method, params=params, files=files, at=time.monotonic())
        with self._lock:
            self.calls.append(call)
        try:
            if token not in self.bots:
                raise ApiError(401, "Unauthorized")
            failure = self._take_failure(token, method, params)
            if failure:
                self._apply_failure(failure)
            self._check_flood(call)
            handler = getattr(self, "_m_" + method, None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = handler(self.bots[token], params, files)
        except ApiError as err:
            call.status, call.result = err.code, err.description
            answer = {"ok": False, "error_code": err.code, "description": err.description}
            if err.parameters:
                answer["parameters"] = err.parameters
            return self._reply(req, err.code, answer)
        except _Drop:
            call.status = 0
            req.close_connection = True
            return None
        call.result = result
        return self._reply(req, 200, {"ok": True, "result": result})

    def _check_flood(self, call: Call) -> None:
        if self.limits is None or call.method not in SEND_METHODS or "chat_id" not in call.params:
            return
        with self._lock:
            retry_after = self.limits.check(call.token, int(call.params["chat_id"]), call.at)
            if retry_after is not None:
                self.limits.refused.append(call)
        if retry_after is not None:
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

    def _apply_failure(self, failure: Failure) -> None:
        if failure.kind == "429":
            raise ApiError(429, f"Too Many Requests: retry after {failure.retry_after}",
                           {"retry_after": failure.retry_after})
        if failure.kind == "403":
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if failure.kind == "400":
            raise ApiError(400, "Bad Request: chat not found")
        if failure.kind == "5xx":
            raise ApiError(502, "Bad Gateway")
        if failure.kind == "timeout":
            self._stopping.wait(failure.delay)
            raise _Drop()
        if failure.kind == "slow":
            self._stopping.wait(failure.delay)
            return
        raise ValueError(f"unknown failure kind {failure.kind}")

    @staticmethod
    def _reply(req: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            req.send_response(status)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(data)))
            req.end_headers()
            req.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its own timeout); nothing to tell it

    def _serve_file(self, req: BaseHTTPRequestHandler, token: str, file_path: str) -> None:
        with self._lock:
            self.calls.append(Call(token=token, method="<download>", params={"file_path": file_path}, files={},
                                   at=time.monotonic()))
            stored = next((f for f in self.files.values() if f.file_path == file_path), None)
        if token not in self.bots:
            return self._reply(req, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        if stored is None:
            return self._reply(req, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        req.send_response(200)
        req.send_header("Content-Type", "application/octet-stream")
        req.send_header("Content-Length", str(len(stored.data)))
        req.end_headers()
        req.wfile.write(stored.data)

    @staticmethod
    def _parse_params(req: BaseHTTPRequestHandler, query: str, body: bytes) -> tuple[dict, dict]:
        params: dict = dict(parse_qsl(query, keep_blank_values=True))
        files: dict = {}
        ctype = req.headers.get("Content-Type", "")
        if body and ctype.startswith("application/json"):
            params.update(json.loads(body))
        elif body and ctype.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        elif body and ctype.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True) or b""
                if filename is not None:
                    files[name] = (filename, payload)
                else:
                    params[name] = payload.decode()
        for key in ("reply_markup", "commands", "allowed_updates"):
            if isinstance(params.get(key), str) and params[key]:
                params[key] = json.loads(params[key])
        return params, files


class _Drop(Exception):
    """Close the connection without an answer (a programmed timeout)."""
