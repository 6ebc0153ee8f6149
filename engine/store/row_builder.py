"""Rows of a joined peewee SELECT turned into models as peewee's `ModelCursorWrapper.process_row` does, with the per
column decisions taken once: peewee builds each model through `__init__`, sets every column through its field's
descriptor and tracks which models got a value in a set, ~15 us per ticket row with its joined user; this writes the
values straight into each model's `__data__`. Joins are attached with peewee's own rules (its join loop, unchanged);
a reader this does not cover (a column that is no field, a model with its own `__init__`) keeps peewee's method.
Rows of one model (`ModelObjectCursorWrapper`: a dict per row, then `Model(**row)` setting each column through its
descriptor) get the same treatment."""
from __future__ import annotations

from typing import Callable

from peewee import FieldAccessor, Model, ModelCursorWrapper, ModelObjectCursorWrapper, ObjectIdAccessor


def row_builder(reader) -> Callable:
    """A function `row -> model` equivalent to `reader.process_row` for an initialized reader."""
    if type(reader) is ModelObjectCursorWrapper:
        return _model_builder(reader)
    if type(reader) is not ModelCursorWrapper:
        return reader.process_row
    keys = [key for key, _, _ in reader._constructor_list]
    constructors = [(constructor, is_model) for _, constructor, is_model in reader._constructor_list]
    if any(is_model and constructor.__init__ is not Model.__init__ for constructor, is_model in constructors):
        return reader.process_row
    slot_of = {key: n for n, key in enumerate(keys)}
    root = slot_of[reader.model]
    # peewee tracks which keys got a value by the column's key, which may be no model's (its value goes to the root)
    flag_of = dict(slot_of)
    for _, key, _, _ in reader._row_spec:
        flag_of.setdefault(key, len(flag_of))
    for dest in reader._dest_reachable.values():
        for key in dest:
            flag_of.setdefault(key, len(flag_of))
    columns = []  # (row index, slot, flag, name in __data__ or the dict, converter)
    for idx, key, column, converter in reader._row_spec:
        slot = slot_of.get(key, root)
        constructor, is_model = constructors[slot]
        name = _data_name(constructor, column) if is_model else column
        if name is None:
            return reader.process_row
        columns.append((idx, slot, flag_of[key], name, converter))
    if any(src not in slot_of for src, *_ in reader.src_to_dest):
        return reader.process_row
    joins = [(slot_of[src], flag_of.get(src), attr, slot_of.get(dest), flag_of.get(dest),
              tuple(flag_of[k] for k in reader._dest_reachable.get(dest, ())) if dest in reader._dest_reachable
              else None, is_dict, is_outer, is_fk)
             for src, attr, dest, is_dict, is_outer, is_fk in reader.src_to_dest]
    new = object.__new__
    count = len(flag_of)

    def build(row):
        objects = []
        data = []
        for constructor, is_model in constructors:
            if is_model:
                instance = new(constructor)
                instance.__data__ = values = {}
                instance._dirty = set()
                instance.__rel__ = {}
                objects.append(instance)
                data.append(values)
            else:
                instance = constructor()
                objects.append(instance)
                data.append(instance)
        is_set = [False] * count
        for idx, slot, flag, name, converter in columns:
            value = row[idx]
            if value is not None:
                is_set[flag] = True
            data[slot][name] = value if converter is None else converter(value)
        for src, src_flag, attr, dest_slot, dest_flag, reachable, is_dict, is_outer, is_fk in joins:  # peewee's loop
            if dest_slot is None:
                continue
            instance, joined = objects[src], objects[dest_slot]
            dest_set = is_set[dest_flag]
            assign = False
            if not dest_set and reachable is not None:
                assign = any(is_set[f] for f in reachable)
            if not dest_set and not assign:
                if is_outer:
                    joined = None
                else:
                    continue
            if not is_set[src_flag] and not dest_set and is_outer:
                continue
            if is_dict:
                instance[attr] = joined
            elif is_fk and joined is None:
                instance.__rel__[attr] = None
            else:
                setattr(instance, attr, joined)
        for instance, (_, is_model) in zip(objects, constructors):
            if is_model:
                instance._dirty.clear()
        return objects[root]

    return build


def _model_builder(reader) -> Callable:
    """`reader.process_row` of a one-model SELECT: the values into a new instance's `__data__`, nothing dirty."""
    model = reader.constructor
    if not reader.is_model or model.__init__ is not Model.__init__:
        return reader.process_row
    columns = []  # (row index, name in __data__, converter)
    for idx, column in enumerate(reader.unique_columns):
        name = _data_name(model, column)
        if name is None:
            return reader.process_row
        columns.append((idx, name, reader.converters[idx]))
    if len({name for _, name, _ in columns}) != len(columns):  # two columns into one field: peewee's order decides
        return reader.process_row
    new = object.__new__

    def build(row):
        instance = new(model)
        instance.__data__ = {name: row[idx] if converter is None else converter(row[idx])
                             for idx, name, converter in columns}
        instance._dirty = set()
        instance.__rel__ = {}
        return instance

    return build


def _data_name(model, column: str) -> str | None:
    """The `__data__` key a selected column of `model` is stored under, or None for a column no plain field takes."""
    accessor = _descriptor(model, column)
    if isinstance(accessor, ObjectIdAccessor):
        return accessor.field.name
    if isinstance(accessor, FieldAccessor):
        return accessor.name
    return None


def _descriptor(model: type, name: str):
    for klass in model.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None
