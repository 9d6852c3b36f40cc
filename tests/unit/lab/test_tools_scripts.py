# -*- coding: utf-8 -*-
"""The shell scripts in tools/: shellcheck-clean, and fresh-check runs the README's setup as written."""

import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TOOLS = os.path.join(ROOT, "tools")
FRESH_CHECK = os.path.join(TOOLS, "fresh-check")


def shell_scripts():
    scripts = []
    for name in sorted(os.listdir(TOOLS)):
        path = os.path.join(TOOLS, name)
        if not os.path.isfile(path):
            continue  # __pycache__ of the Python tools the tests import
        with open(path, "rb") as handle:
            first_line = handle.readline()
        if first_line.startswith(b"#!") and b"bash" in first_line:
            scripts.append(path)
    return scripts


def fresh_check_constant(name):
    with open(FRESH_CHECK) as handle:
        found = re.search(r"^%s='(.*)'$" % name, handle.read(), re.MULTILINE)
    assert found, "tools/fresh-check no longer sets %s" % name
    return found.group(1)


def test_the_tools_include_the_shell_scripts_we_expect():
    names = [os.path.basename(p) for p in shell_scripts()]
    assert "install-deps.sh" in names and "fresh-check" in names


@pytest.mark.parametrize("script", shell_scripts(), ids=os.path.basename)
def test_shell_script_is_shellcheck_clean(script):
    # shellcheck comes from `make deps` (tools/install-deps.sh): no skip when it is missing.
    assert shutil.which("shellcheck"), "shellcheck is missing: run `make deps`"
    result = subprocess.run(["shellcheck", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, check=False)
    assert result.returncode == 0, result.stdout


def test_fresh_check_installs_make_as_the_readme_says():
    with open(os.path.join(ROOT, "README.md")) as handle:
        readme = handle.read()
    install_make = fresh_check_constant("README_SETUP_MAKE").split("|| { ")[1].rstrip("; }")
    assert "`%s`" % install_make in readme


def test_fresh_check_sets_up_as_make_test_does():
    with open(os.path.join(ROOT, "Makefile")) as handle:
        test_rule = re.search(r"^test:(.*)$", handle.read(), re.MULTILINE).group(1).split()
    setup = fresh_check_constant("README_SETUP").split()
    assert setup[0] == "make"
    assert test_rule[:len(setup) - 1] == setup[1:]
