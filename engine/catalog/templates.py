"""Notification templates: one sandboxed Jinja2 environment, and the load-time check of each template."""
from __future__ import annotations

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

# Rendering uses the same settings; config authors are not trusted with Python attribute access.
TEMPLATE_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


def template_problems(text: str, declared: list[str] | tuple[str, ...]) -> list[str]:
    """Messages for a template that does not compile or uses a variable its type does not declare."""
    try:
        tree = TEMPLATE_ENV.parse(text)
        TEMPLATE_ENV.compile(tree)  # compiling also catches unknown filters and tests
    except TemplateSyntaxError as exc:
        return [f"template syntax error on template line {exc.lineno}: {exc.message}"]
    unknown = sorted(meta.find_undeclared_variables(tree) - set(declared) - set(TEMPLATE_ENV.globals))
    if not unknown:
        return []
    names = ", ".join(f"'{name}'" for name in unknown)
    allowed = ", ".join(declared) if declared else "none"
    return [f"template uses undeclared param{'s' if len(unknown) > 1 else ''} {names} (declared params: {allowed})"]
