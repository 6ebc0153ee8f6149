"""web/ticket_parts.py writes the markup the Jinja templates it replaced wrote (kept here), escaped the same way; its
functions are template globals, called here from templates as the pages call them."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from io import BytesIO
from zoneinfo import ZoneInfo

from flask import g, render_template_string

from engine.catalog.replies import CannedReply
from engine.catalog.teams import Team
from engine.catalog.texts import LocalText
from engine.store.models import Attachment, Message, Ticket, User
from engine.sla import TargetView
from engine.ticket_queries import HistoryEntry
from tests.web.helpers import make_ticket

OLD_MESSAGES = """{% from "_macros.html" import attachment_links %}
{% for message in conversation %}
<li class="message message-{{ message.author_kind }}{% if message.internal %} message-internal{% endif %}" id="m{{ message.id }}">
  <div class="message-meta">
    {% if message.internal %}<span class="badge badge-internal">{{ t("note_badge") }}</span>{% endif %}
    <strong>{% if message.author_kind == "customer" %}{{ (message.author.name or message.author.email) if message.author else t("author_customer") }}{% elif message.internal and message.author %}{{ message.author.name or message.author.email }}{% elif message.author_kind == "agent" %}{{ t("author_support") }}{% else %}{{ t("author_system") }}{% endif %}</strong>
    {{ datetime(message.created_at) }}
    <span class="hint">{{ t("via_" ~ message.channel) }}</span>
  </div>
  {% if message.body %}<div class="message-body">{{ message.body }}</div>{% endif %}
  {{ attachment_links(message.attachments, download_endpoint, ticket.number) }}
</li>
{% endfor %}"""

OLD_HEADER = """<h1><span class="ticket-number">#{{ ticket.number }}</span> {{ ticket.subject }}</h1>
<p class="ticket-meta">
  {{ status_badge(ticket.status, staff) }}{% if staff %} {{ priority_badge(ticket.priority) }}{% endif %}
  <span>{{ ticket.snapshot.get("category_title", "") }} › {{ ticket.snapshot.get("topic_title", "") }}</span>
  <span class="hint">{{ t("created_at") }} {{ datetime(ticket.created_at) }}{% if staff %} · {{ t("via_" ~ ticket.channel) }}{% endif %}</span>
</p>"""

OLD_CHOICES = """{% if not ticket.team %}<option value="" selected disabled>{{ t("team_none") }}</option>{% endif %}
    {% if ticket.team and ticket.team not in teams_all %}<option value="" selected disabled>{{ ticket.team }}</option>{% endif %}
    {% for team in teams_all.values() %}<option value="{{ team.id }}" {% if ticket.team == team.id %}selected{% endif %}>{{ team.title }}</option>{% endfor %}
    <option value="" {% if not ticket.assignee_id %}selected{% endif %}>{{ t("assignee_nobody") }}</option>
    {% for user in colleagues %}<option value="{{ user.id }}" {% if ticket.assignee_id == user.id %}selected{% endif %}>{{ user.name or user.email }}</option>{% endfor %}"""

OLD_CHOICE_FORM = """{% macro choice_form(endpoint, name, label, button) -%}
  <form method="post" action="{{ url_for(endpoint, number=ticket.number) }}" hx-post="{{ url_for(endpoint, number=ticket.number) }}"
        hx-target="#assignment" hx-swap="outerHTML" hx-disabled-elt="find button" class="field">
    <input type="hidden" name="_csrf" value="{{ csrf_token() }}">
    <label for="{{ name }}">{{ label }}</label>
    <div class="search-row">
      <select id="{{ name }}" name="{{ name }}">{{ caller() }}</select>
      <button type="submit" class="button">{{ button }}</button>
    </div>
  </form>
{%- endmacro %}
{% call choice_form("agent.assign", "assignee", t("assignee_label"), label) %}
    {{ assignee_options(ticket, colleagues) }}
{% endcall %}"""

OLD_HISTORY = """    {% for entry in history %}
    {% if entry.kind == "status" %}{% set old, new = (t("staff_status_" ~ entry.old) if entry.old else "—"), t("staff_status_" ~ entry.new) %}
    {% elif entry.kind == "priority" %}{% set old, new = t("priority_" ~ entry.old), t("priority_" ~ entry.new) %}
    {% elif entry.kind == "team" %}{% set old, new = (teams_all[entry.old].title if entry.old in teams_all else entry.old or "—"), (teams_all[entry.new].title if entry.new in teams_all else entry.new) %}
    {% else %}{% set old, new = entry.old or "—", entry.new or "—" %}{% endif %}
    <li>{{ datetime(entry.at) }} · {{ entry.actor or t("history_system") }}: {{ t("history_" ~ entry.kind, old=old, new=new) }}</li>
    {% endfor %}
"""

OLD_CANNED = """        {% for reply in canned %}
        <li><button type="button" class="button" hx-post="{{ url_for('agent.insert_canned', number=ticket.number, reply_id=reply.id) }}"
          hx-include="#reply-message" hx-target="#reply-message" hx-swap="outerHTML" aria-label="{{ t('canned_insert', title=reply.title) }}">{{ reply.title }}</button></li>
        {% endfor %}
"""

OLD_SLA = """        {% for target in sla_targets %}
        <dt>{{ t("sla_target_" ~ target.target) }}</dt>
        <dd class="sla-{{ 'breached' if target.breached else target.state }}">
          {%- if target.state == "met" %}{{ t("sla_state_met_late" if target.breached else "sla_state_met", at=target.local(target.met_at), due=target.local(target.due_at)) }}
          {%- elif target.state == "stopped" %}{{ t("sla_state_stopped") }}
          {%- elif target.state == "paused" %}{{ t("sla_state_paused", left=sla_left(target.remaining) | striptags) }}
          {%- elif target.breached or (target.remaining is not none and target.remaining.total_seconds() <= 0) %}{{ t("sla_state_overdue", due=target.local(target.due_at)) }}
          {%- else %}{{ t("sla_state_running", due=target.local(target.due_at), left=sla_left(target.remaining) | striptags) }}{% endif -%}
        </dd>
        {% endfor %}
"""

AT = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
BODY = 'Line one <script>alert("x")</script> & more\n\n  indented line'


def _same(jinja: str, python: str) -> None:
    """Equal but for whitespace between tags and runs of it (a message body's own text is checked apart)."""
    def normal(html):
        return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()
    assert normal(python) == normal(jinja)


def _message(id, kind, author=None, internal=False, body=BODY, files=()):
    message = Message(id=id, author_kind=kind, author=author, internal=internal, body=body, channel="web", created_at=AT)
    message.attachments = list(files)
    return message


def test_messages_as_the_template_wrote_them(app):
    customer = User(id=1, email="a<b>@example.com", name="")
    named = User(id=2, email="agent@example.com", name='Агент "<i>"')
    files = [Attachment(id=7, original_name="<scan>&.png", size=1025), Attachment(id=8, original_name="b.txt", size=0)]
    conversation = [
        _message(1, "customer", customer, files=files), _message(2, "customer"), _message(3, "agent", named),
        _message(4, "agent", named, internal=True, body=""), _message(5, "agent", internal=True),
        _message(6, "system", body="Closed"), _message(7, "customer", named, files=files[1:]),
    ]
    ticket = Ticket(number=1234)
    shown = set()
    for viewer_locale, zone in (("ru", "Europe/Moscow"), ("en", "Europe/Moscow"), ("ru", "Asia/Yekaterinburg")):
        with app.test_request_context():  # each zone and locale shows its own time
            g.locale, g.time_zone = viewer_locale, zone
            args = {"conversation": conversation, "ticket": ticket, "download_endpoint": "agent.download"}
            jinja = render_template_string(OLD_MESSAGES, **args)
            python = render_template_string(
                "{{ message_items(conversation, ticket.number, download_endpoint, url_for) }}", **args)
            assert render_template_string("{{ message_items([], 1, 'portal.download', None) }}") == ""
        _same(jinja, python)
        shown.add(re.search(r"<time [^>]*>([^<]*)</time>", python).group(1))
    assert shown == {"01.03.2026 12:30 МСК", "01.03.2026 12:30 MSK", "01.03.2026 14:30 (UTC+5)"}
    assert python.count('<div class="message-body">Line one &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more\n\n'
                        '  indented line</div>') == 5


def test_header_as_the_template_wrote_it(app):
    ticket = Ticket(number=1001, subject="Бот <b>молчит</b> & ждёт", status="waiting_customer", priority="high",
                    channel="telegram", created_at=AT, snapshot={"category_title": "Чаты & <боты>", "topic_title": "T"})
    no_titles = Ticket(number=1002, subject="S", status="archived", priority="normal", channel="web", created_at=AT,
                       snapshot={})
    with app.test_request_context():
        for shown in (ticket, no_titles):
            for staff in (False, True):
                _same(render_template_string(OLD_HEADER, ticket=shown, staff=staff),
                      render_template_string("{{ ticket_header(ticket, staff) }}", ticket=shown, staff=staff))


def test_the_remembered_reply_files_follow_the_catalog_and_the_locale(as_role, users, rt, config_dir):
    """The file field rendered once per catalog version and locale: a reload's limits and another locale show at
    once; an error or kept files render it afresh."""
    number = make_ticket(rt, users["customer"]).number
    client = as_role("customer")

    def files_field():
        page = client.get(f"/tickets/{number}").get_data(as_text=True)
        return page[page.index('<label for="reply-files">'):page.index('<button type="submit" class="button button-primary">')]

    assert 'data-max-files="5"' in files_field() and "До 5 файлов" in files_field()
    policies = config_dir / "policies.yaml"
    policies.write_text(policies.read_text(encoding="utf-8").replace("max_files: 5,", "max_files: 3,"), encoding="utf-8")
    assert rt.catalogs.reload()
    assert 'data-max-files="3"' in files_field() and "До 3 файлов" in files_field()
    client.post("/locale", {"locale": "en", "next": "/"})
    assert "Up to 3 files" in files_field()
    refused = client.post(f"/tickets/{number}/reply", {"message": "x", "attachments": [(BytesIO(b"MZ\x90\x00"), "a.exe")]})
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.get_data(as_text=True).split('id="reply-files"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid' not in files_field()


def test_assignment_choices_and_history_as_the_template_wrote_them(app):
    teams = {"general": Team("general", LocalText("Общая <поддержка>", {"en": "General"}), (), {}),
             "sales": Team("sales", "Продажи & co", (), {})}
    colleagues = [User(id=3, name="", email="x<y>@example.com"), User(id=4, name="Агент", email="a@example.com")]
    history = [HistoryEntry(AT, None, "status", None, "new"), HistoryEntry(AT, "Анна <a>", "status", "new", "waiting_customer"),
               HistoryEntry(AT, "B", "priority", "normal", "urgent"), HistoryEntry(AT, "B", "team", None, "general"),
               HistoryEntry(AT, "B", "team", "general", "gone & <old>"), HistoryEntry(AT, "B", "assignee", None, "Агент <b>"),
               HistoryEntry(AT, None, "assignee", "Агент", None)]
    for viewer_locale in ("ru", "en"):
        with app.test_request_context():
            g.locale = viewer_locale
            for team, assignee_id in ((None, None), ("gone<>", 4), ("sales", 3), ("general", 99)):
                ticket = Ticket(team=team, assignee_id=assignee_id)
                jinja = render_template_string(OLD_CHOICES, ticket=ticket, teams_all=teams, colleagues=colleagues)
                python = render_template_string("{{ team_options(ticket, teams_all) }}{{ assignee_options(ticket, colleagues) }}",
                                                ticket=ticket, teams_all=teams, colleagues=colleagues)
                _same(jinja, python)
            _same(render_template_string(OLD_HISTORY, history=history, teams_all=teams),
                  render_template_string("{{ history_items(history, teams_all) }}", history=history, teams_all=teams))
            general = render_template_string("{{ team_options(ticket, teams_all) }}", ticket=Ticket(team="general"),
                                             teams_all=teams)
            assert (">General</option>" in general) == (viewer_locale == "en")


def test_assignment_form_as_the_template_wrote_it(app):
    colleagues = [User(id=3, name="<Анна>", email="a@example.com")]
    for viewer_locale in ("ru", "en"):
        with app.test_request_context():
            g.locale = viewer_locale
            args = {"ticket": Ticket(number=1001, assignee_id=3), "colleagues": colleagues, "label": "Назначить & <go>"}
            python = render_template_string(
                '{{ choice_form(url_for("agent.assign", number=ticket.number), "assignee", t("assignee_label"), label,'
                ' assignee_options(ticket, colleagues)) }}', **args)
            _same(render_template_string(OLD_CHOICE_FORM, **args), python)
            assert "&lt;Анна&gt;" in python and "Назначить &amp; &lt;go&gt;" in python


def test_canned_replies_and_sla_targets_as_the_template_wrote_them(app):
    canned = [CannedReply("greeting", LocalText("Привет <b>", {"en": "Hello <b>"}), "", ()),
              CannedReply("done & gone", "Готово", "", ())]
    zone = ZoneInfo("Europe/Moscow")
    due = AT + timedelta(hours=5)
    targets = [TargetView("first_response", "met", due, False, None, AT, zone),
               TargetView("resolution", "met", due, True, None, AT, zone),
               TargetView("first_response", "stopped", due, False, None, None, zone),
               TargetView("resolution", "paused", due, False, timedelta(hours=27, minutes=3), None, zone),
               TargetView("resolution", "paused", due, True, timedelta(seconds=-5), None, zone),
               TargetView("first_response", "running", due, True, timedelta(hours=1), None, zone),
               TargetView("first_response", "running", due, False, timedelta(0), None, zone),
               TargetView("resolution", "running", due, False, None, None, zone),
               TargetView("resolution", "running", due, False, timedelta(minutes=59), None, zone)]
    for viewer_locale in ("ru", "en"):
        with app.test_request_context():
            g.locale = viewer_locale
            jinja = render_template_string(OLD_CANNED, canned=canned, ticket=Ticket(number=1001))
            _same(jinja, render_template_string("{{ canned_items(1001, canned, url_for) }}", canned=canned))
            _same(render_template_string(OLD_SLA, sla_targets=targets),
                  render_template_string("{{ sla_items(sla_targets) }}", sla_targets=targets))
