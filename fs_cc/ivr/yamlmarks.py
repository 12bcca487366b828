"""YAML loading that remembers the line and column of every mapping, list and value, for error
messages. Lines and columns count from 1, as editors show them."""

import yaml

from fs_cc.errors import ConfigError


class LineDict(dict):
    """A YAML mapping that knows its own line and the line of each of its values."""

    def __init__(self, line, column=1):
        super().__init__()
        self.line = line
        self.column = column
        self.lines = {}
        self.key_lines = {}
        self.columns = {}
        self.key_columns = {}

    def line_of(self, key):
        """Line of the value under ``key`` (the mapping's own line when the key is absent)."""
        return self.lines.get(key, self.line)

    def key_line_of(self, key):
        """Line where ``key`` itself is written."""
        return self.key_lines.get(key, self.line)

    def column_of(self, key):
        """Column of the value under ``key`` (the mapping's own column when the key is absent)."""
        return self.columns.get(key, self.column)

    def key_column_of(self, key):
        """Column where ``key`` itself is written."""
        return self.key_columns.get(key, self.column)


class LineList(list):
    """A YAML sequence that knows its own line and the line of each item."""

    def __init__(self, line, column=1):
        super().__init__()
        self.line = line
        self.column = column
        self.lines = []
        self.columns = []

    def line_of(self, index):
        """Line of item ``index``."""
        return self.lines[index] if 0 <= index < len(self.lines) else self.line

    def column_of(self, index):
        """Column of item ``index``."""
        return self.columns[index] if 0 <= index < len(self.columns) else self.column


class _Loader(yaml.SafeLoader):
    """SafeLoader building LineDict/LineList and refusing duplicate keys."""

    source = None
    duplicates = None  # a list: duplicate keys are noted there (first one kept), not raised


def _construct_mapping(loader, node):
    mapping = LineDict(node.start_mark.line + 1, node.start_mark.column + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise ConfigError("a mapping key must be a plain word or number", loader.source,
                              key_node.start_mark.line + 1)
        if key in mapping:
            error = ConfigError(f"duplicate key {key!r} (first given on line "
                                f"{mapping.lines[key]})", loader.source,
                                key_node.start_mark.line + 1)
            error.column = key_node.start_mark.column + 1
            if loader.duplicates is None:
                raise error
            loader.duplicates.append(error)
            continue
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = value_node.start_mark.line + 1
        mapping.key_lines[key] = key_node.start_mark.line + 1
        mapping.columns[key] = value_node.start_mark.column + 1
        mapping.key_columns[key] = key_node.start_mark.column + 1
    return mapping


def _construct_sequence(loader, node):
    items = LineList(node.start_mark.line + 1, node.start_mark.column + 1)
    for item_node in node.value:
        items.append(loader.construct_object(item_node, deep=True))
        items.lines.append(item_node.start_mark.line + 1)
        items.columns.append(item_node.start_mark.column + 1)
    return items


def _construct_timestamp(loader, node):
    # an impossible date written as one (2026-13-01) is the flow's mistake, said at its line
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise ConfigError(f"{node.value!r} is not a real date or time ({exc})", loader.source,
                          node.start_mark.line + 1) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def load_yaml(text, source, duplicates=None):
    """Parse YAML ``text``; mappings and lists carry lines and columns; errors name ``source``
    and line (and carry ``column``). With a ``duplicates`` list, a duplicate key is appended
    there as a ConfigError and the first value kept, instead of failing the whole file."""
    loader = _Loader(text)
    loader.source = source
    loader.duplicates = duplicates
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "not valid YAML"
        error = ConfigError(f"not valid YAML: {problem}", source, line)
        error.column = mark.column + 1 if mark is not None else None
        raise error from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", source) from exc
    finally:
        loader.dispose()
