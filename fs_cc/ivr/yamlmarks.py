"""YAML loading that remembers the line of every mapping, list and value, for error messages."""

import yaml

from fs_cc.errors import ConfigError


class LineDict(dict):
    """A YAML mapping that knows its own line and the line of each of its values."""

    def __init__(self, line):
        super().__init__()
        self.line = line
        self.lines = {}
        self.key_lines = {}

    def line_of(self, key):
        """Line of the value under ``key`` (the mapping's own line when the key is absent)."""
        return self.lines.get(key, self.line)

    def key_line_of(self, key):
        """Line where ``key`` itself is written."""
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A YAML sequence that knows its own line and the line of each item."""

    def __init__(self, line):
        super().__init__()
        self.line = line
        self.lines = []

    def line_of(self, index):
        """Line of item ``index``."""
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class _Loader(yaml.SafeLoader):
    """SafeLoader building LineDict/LineList and refusing duplicate keys."""

    source = None


def _construct_mapping(loader, node):
    mapping = LineDict(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise ConfigError("a mapping key must be a plain word or number", loader.source,
                              key_node.start_mark.line + 1)
        if key in mapping:
            raise ConfigError(f"duplicate key {key!r} (first given on line {mapping.lines[key]})",
                              loader.source, key_node.start_mark.line + 1)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = value_node.start_mark.line + 1
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader, node):
    items = LineList(node.start_mark.line + 1)
    for item_node in node.value:
        items.append(loader.construct_object(item_node, deep=True))
        items.lines.append(item_node.start_mark.line + 1)
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


def load_yaml(text, source):
    """Parse YAML ``text``; mappings and lists carry line numbers; errors name ``source`` and line."""
    loader = _Loader(text)
    loader.source = source
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "not valid YAML"
        raise ConfigError(f"not valid YAML: {problem}", source, line) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", source) from exc
    finally:
        loader.dispose()
