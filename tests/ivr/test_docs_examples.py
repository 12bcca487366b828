"""docs/ivr.rst and docs/callbacks.rst: every example flow loads, and every node type has one."""

import pathlib
import re

import pytest

from fs_cc.ivr import NODE_TYPES, parse_flow

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"\.\. code-block:: yaml\n\n((?:    .*\n|\n)+)")


def example_flows():
    """(where, YAML) of every YAML block of the IVR docs that is a whole flow."""
    found = []
    for name in ("ivr.rst", "callbacks.rst"):
        text = (DOCS / name).read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            block = "\n".join(line[4:] for line in match.group(1).splitlines())
            if re.search(r"^start:", block, re.M) and re.search(r"^nodes:", block, re.M):
                found.append((f"{name}:{text.count(chr(10), 0, match.start()) + 1}", block))
    return found


def load(tmp_path, where, text):
    """The example as a flow file of a folder with the holiday calendar the docs' examples name."""
    (tmp_path / "holidays.txt").write_text("2026-10-01\n", encoding="utf-8")
    path = tmp_path / (where.replace(":", "_").replace(".", "_") + ".yaml")
    path.write_text(text, encoding="utf-8")
    return parse_flow(text, str(path))


@pytest.mark.parametrize("where, text", example_flows(), ids=[w for w, _ in example_flows()])
def test_given_a_docs_example_when_loaded_then_it_is_a_valid_flow(tmp_path, where, text):
    load(tmp_path, where, text)


def test_every_node_type_has_an_example_in_the_docs(tmp_path):
    shown = set()
    for where, text in example_flows():
        shown |= {node.type_name for node in load(tmp_path, where, text).nodes.values()}
    assert set(NODE_TYPES) - shown == set()
