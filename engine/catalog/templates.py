"""Notification templates: one sandboxed Jinja2 environment, and the load-time check of each template.

Rendering is sandboxed; the load-time check also refuses what only an escape attempt would write: names of
Python internals (anything starting with `_`, `mro`, frame and function attributes), the `attr` filter, and
`.format()`/`.format_map()` calls, so such a template never reaches a customer's page or a delivery.
"""
from __future__ import annotations

from functools import lru_cache

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from engine.local_time import local_time_filter

# Rendering uses the same settings; config authors are not trusted with Python attribute access.
TEMPLATE_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
TEMPLATE_ENV.filters["local_time"] = local_time_filter  # a time in the recipient's zone, labelled

# Attribute and item names that lead from a value to Python's internals (besides every name starting with `_`).
INTERNALS = frozenset({
    "mro", "func_globals", "func_code", "func_closure", "func_defaults", "im_func", "im_self", "im_class",
    "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "tb_frame", "tb_next",
    "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "co_code", "co_consts",
})
TICKET_URL = "ticket_url"  # the customer's page of the ticket: a variable of every `source: ticket` type's templates
STRING_FORMATTERS = frozenset({"format", "format_map"})  # str methods that reach attributes through their fields


@lru_cache(maxsize=4096)
def variables(text: str) -> frozenset[str]:
    """The names a template reads (raises TemplateSyntaxError); cached, as a reload mostly sees the same templates."""
    return frozenset(meta.find_undeclared_variables(TEMPLATE_ENV.parse(text)))


def template_problems(text: str, declared: list[str] | tuple[str, ...]) -> list[str]:
    """Messages for a template that does not compile, reaches for Python internals, or uses an undeclared param.
    Remembered per (text, params): compiling is most of a catalog load, and a reload rarely changes a template."""
    return list(_template_problems(text, tuple(declared)))


@lru_cache(maxsize=4096)
def _template_problems(text: str, declared: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_check_template(text, declared))


def _check_template(text: str, declared: tuple[str, ...]) -> list[str]:
    try:
        tree = TEMPLATE_ENV.parse(text)
        TEMPLATE_ENV.compile(tree)  # compiling also catches unknown filters and tests
    except TemplateSyntaxError as exc:
        return [f"template syntax error on template line {exc.lineno}: {exc.message}"]
    problems = unsafe_parts(tree)
    unknown = sorted(variables(text) - set(declared) - set(TEMPLATE_ENV.globals))
    if unknown:
        names = ", ".join(f"'{name}'" for name in unknown)
        allowed = ", ".join(declared) if declared else "none"
        problems.append(f"template uses undeclared param{'s' if len(unknown) > 1 else ''} {names} (declared params: {allowed})")
    return problems


def _internal(name) -> bool:
    return isinstance(name, str) and (name.startswith("_") or name in INTERNALS)


def unsafe_parts(tree: nodes.Template) -> list[str]:
    """One message per kind of unsafe construct, naming the template line of its first use and the names used."""
    found: dict[str, tuple[int, list[str]]] = {}

    def add(kind: str, lineno: int, name: str = "") -> None:
        line, names = found.setdefault(kind, (lineno, []))
        if name and name not in names:
            names.append(name)

    for node in tree.find_all((nodes.Getattr, nodes.Const, nodes.Filter, nodes.Call)):
        if isinstance(node, nodes.Getattr) and _internal(node.attr):
            add("internals", node.lineno, node.attr)
        elif isinstance(node, nodes.Const) and _internal(node.value):
            add("internals", node.lineno, node.value)  # item access x['__class__'] and attribute=... arguments
        elif isinstance(node, nodes.Filter) and node.name == "attr":
            add("attr", node.lineno)
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) and node.node.attr in STRING_FORMATTERS:
            add("format", node.lineno, node.node.attr)
    messages = {
        "internals": "template line {line}: Python internals are not allowed: {names}",
        "attr": "template line {line}: the attr filter is not allowed (it reads Python attributes)",
        "format": "template line {line}: calling {names} is not allowed (format strings read Python attributes); use {{{{ }}}} and filters",
    }
    return sorted(
        messages[kind].format(line=line, names=", ".join(f"'{n}'" if kind == "internals" else f".{n}()" for n in sorted(names)))
        for kind, (line, names) in found.items()
    )
