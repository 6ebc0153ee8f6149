"""The app's Jinja environment: templates without globals of their own share the environment's globals dict, and a
template's calls of plain functions skip Jinja's per-call inspection.

Jinja gives every template a ChainMap over them, and every render and every `{% from ... import %}` walks it in
Python (copying it into the context, comparing its keys with the importer's): a tenth of a fragment's time. Sharing
the dict itself shows every template the same names, later additions included; only writing into one template's
globals would now reach all of them, which nothing here does (Jinja advises against it).

Every call in a template (`t(...)`, `url_for(...)`) goes through `Context.call`, which asks the callable and its
`__call__` whether it wants the context, eval context or environment passed (`hasattr` misses that raise inside):
2-3 us a call, 40-100 calls on a data page. A plain function, `functools.partial` or builtin cannot want one unless
it carries `jinja_pass_arg` itself (their `__call__` never does), so `CallingContext` calls those directly, dropping
the loop and block variables Jinja passes along as `Context.call` does; everything else goes through Jinja's way.
"""
from __future__ import annotations

from functools import partial
from types import BuiltinFunctionType, FunctionType

from flask.templating import Environment
from jinja2.runtime import Context

_PLAIN_TYPES = frozenset((FunctionType, partial, BuiltinFunctionType))
_NO_ATTRIBUTES: dict = {}


class CallingContext(Context):
    def call(__self, __obj, *args, **kwargs):  # noqa: N805 (Jinja's names: a keyword argument may be called `self`)
        if type(__obj) not in _PLAIN_TYPES or "jinja_pass_arg" in getattr(__obj, "__dict__", _NO_ATTRIBUTES):
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:  # as Jinja answers it
            return __self.environment.undefined("value was undefined because a callable raised a StopIteration exception")


class SharedGlobalsEnvironment(Environment):
    context_class = CallingContext

    def make_globals(self, d):
        return self.globals if not d else super().make_globals(d)
