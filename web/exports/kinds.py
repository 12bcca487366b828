"""The registry of export kinds: what each kind writes, and who may ask for it.

A kind is a function registered with ``@export_kind(name, permission)``; the worker calls it
with the database session and an ExportContext and it returns an ExportRows: the header,
an iterator of rows (lists of cells), and the number of rows when known beforehand (else
None: the progress shows rows written only). The CRM registers ``crm.customers``; the
reports add theirs the same way.
"""

import dataclasses
import importlib
import typing

from web.errors import WebError

KINDS = {}
# the modules that register kinds, imported by load_kinds (the app factory calls it)
KIND_MODULES = ("web.crm.export_kind",)


class UnknownExportKind(WebError):
    """An export kind nobody registered."""

    status = 400


@dataclasses.dataclass(frozen=True)
class ExportContext:
    """What a kind is given besides the session: the job's parameters and its options."""

    parameters: dict
    options: dict  # set when the job was created (e.g. whether phones are shown in full)
    settings: typing.Any = None  # the app's config mapping (regions, sources...)


@dataclasses.dataclass
class ExportRows:
    """A kind's output: the header, the rows (an iterator), how many when known."""

    header: list
    rows: typing.Iterable
    total: typing.Optional[int] = None


@dataclasses.dataclass(frozen=True)
class ExportKind:
    """A registered kind: its name, the permission it needs, and its functions.

    ``produce(session, context)`` gives ExportRows; ``prepare(parameters, user)``, run in
    the request, checks the parameters (raising a WebError naming the field at fault) and
    returns (parameters to keep, options to keep).
    """

    name: str
    permission: str
    produce: typing.Callable
    prepare: typing.Callable


def export_kind(name, permission, prepare):
    """Register the decorated ``produce`` function as the export kind ``name``."""
    def decorator(produce):
        KINDS[name] = ExportKind(name, permission, produce, prepare)
        return produce

    return decorator


def kind_named(name):
    """The registered ExportKind ``name``; UnknownExportKind naming ``kind`` otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownExportKind(f"kind: no export kind {name!r} (known: "
                                f"{', '.join(sorted(KINDS)) or 'none'})", field="kind") from None


def load_kinds():
    """Import every module of KIND_MODULES, registering their kinds."""
    for module in KIND_MODULES:
        importlib.import_module(module)
