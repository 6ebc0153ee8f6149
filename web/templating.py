"""The app's Jinja environment: templates without globals of their own share the environment's globals dict.

Jinja gives every template a ChainMap over them, and every render and every `{% from ... import %}` walks it in
Python (copying it into the context, comparing its keys with the importer's): a tenth of a fragment's time. Sharing
the dict itself shows every template the same names, later additions included; only writing into one template's
globals would now reach all of them, which nothing here does (Jinja advises against it).
"""
from __future__ import annotations

from flask.templating import Environment


class SharedGlobalsEnvironment(Environment):
    def make_globals(self, d):
        return self.globals if not d else super().make_globals(d)
