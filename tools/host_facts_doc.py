# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the field reference of docs/host-facts.md from hypervisor_info's RETURN.

RETURN is the host-facts contract (ansible-doc shows it, the tests check facts against it);
the page keeps its prose by hand and this writes the part between its two markers, so the
two cannot drift apart again. A unit test fails while the committed page differs.

    python tools/host_facts_doc.py           # rewrite docs/host-facts.md
    python tools/host_facts_doc.py --check   # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = os.path.join(ROOT, "plugins", "modules", "hypervisor_info.py")
PAGE = os.path.join(ROOT, "docs", "host-facts.md")
BEGIN = "<!-- BEGIN reference: written by tools/host_facts_doc.py from hypervisor_info's RETURN; do not edit -->"
END = "<!-- END reference -->"

# Ansible's documentation markup -> Markdown: (open, close) around the text inside the parentheses.
_MARKUP = {"C": ("`", "`"), "V": ("`", "`"), "O": ("`", "`"), "RV": ("`", "`"), "M": ("`", "`"),
           "E": ("`", "`"), "I": ("*", "*"), "B": ("**", "**"), "U": ("", "")}


def module_return(path=MODULE):
    """The RETURN string of the module file, read without importing the module (no Ansible needed)."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "RETURN" for t in node.targets):
            return node.value.value
    raise ValueError("%s has no RETURN string" % path)


def markdown(text):
    """Ansible markup such as C(x), O(x), RV(x), I(x), L(text,url) as Markdown; parentheses inside
    the markup (C((a - b) * c)) are kept by counting them."""
    out = []
    i = 0
    while i < len(text):
        name = next((n for n in ("RV", "C", "V", "O", "M", "E", "I", "B", "U", "L")
                     if text.startswith(n + "(", i) and (i == 0 or not text[i - 1].isalnum())), None)
        if name is None:
            out.append(text[i])
            i += 1
            continue
        start = i + len(name) + 1
        depth, end = 1, start
        while end < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        inner = text[start:end - 1]
        if name == "L":
            label, url = inner.split(",", 1) if "," in inner else (inner, inner)
            out.append("[%s](%s)" % (label.strip(), url.strip()))
        else:
            if name in ("O", "RV"):
                inner = inner.split(":", 1)[-1] if "#" in inner else inner
            opening, closing = _MARKUP[name]
            out.append(opening + inner + closing)
        i = end
    return "".join(out)


def _description(spec):
    text = spec.get("description", "")
    return " ".join(text) if isinstance(text, list) else text


def _type(spec):
    kind = spec.get("type", "raw")
    return "list of %s" % spec["elements"] if kind == "list" and spec.get("elements") else kind


def _sample(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def field_lines(contains, depth=0):
    """One Markdown bullet a field, nested as RETURN nests them."""
    lines = []
    for key, spec in contains.items():
        line = "%s- `%s` (%s): %s" % ("  " * depth, key, _type(spec), markdown(_description(spec)))
        if spec.get("choices"):
            line += " One of %s." % ", ".join("`%s`" % choice for choice in spec["choices"])
        if "sample" in spec:
            line += " Example: `%s`." % _sample(spec["sample"])
        lines.append(line)
        lines.extend(field_lines(spec.get("contains") or {}, depth + 1))
    return lines


def reference(return_text):
    hypervisor = yaml.safe_load(return_text)["hypervisor"]
    lines = [BEGIN, "", "`hypervisor` (dict): %s" % markdown(_description(hypervisor)), ""]
    lines.extend(field_lines(hypervisor["contains"]))
    lines.extend(["", END])
    return "\n".join(lines)


def render(page, return_text):
    """``page`` with the text between its markers replaced by the reference written from ``return_text``."""
    if page.count(BEGIN) != 1 or page.count(END) != 1:
        raise ValueError("the page needs the markers %r and %r once each" % (BEGIN, END))
    before, rest = page.split(BEGIN)
    after = rest.split(END)[1]
    return before + reference(return_text) + after


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is out of date; write nothing")
    args = parser.parse_args(argv)
    with open(PAGE, encoding="utf-8") as handle:
        page = handle.read()
    written = render(page, module_return())
    if args.check:
        if written != page:
            print("%s is out of date: run python tools/host_facts_doc.py" % os.path.relpath(PAGE, ROOT))
            return 1
        return 0
    if written != page:
        with open(PAGE, "w", encoding="utf-8") as handle:
            handle.write(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
