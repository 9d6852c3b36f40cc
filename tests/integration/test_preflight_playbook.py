# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/upgrade_preflight.yml on the lab: the table is printed, a healthy lab passes, a
target above what is installed fails the play after the table (and writes the JSON)."""

import json
import os
import subprocess

from test_targets import BIN, ROOT, ansible_env, inventory  # noqa: F401  pylint: disable=unused-import

PLAYBOOK = os.path.join(ROOT, "playbooks", "upgrade_preflight.yml")


def run_playbook(inventory_path, *extra):
    result = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", inventory_path, PLAYBOOK] + list(extra),
        cwd=ROOT, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=600, check=False,
    )
    print(result.stdout)
    return result


def test_healthy_lab_passes_and_prints_the_table(inventory):  # pylint: disable=redefined-outer-name
    result = run_playbook(inventory, "-e", "preflight_strict=true")
    assert result.returncode == 0, result.stdout[-6000:]
    assert "CHECK" in result.stdout and "n_plus_one" in result.stdout
    assert "upgrade preflight rc 0:" in result.stdout


def test_target_above_installed_fails_the_play_after_the_table(inventory, tmp_path):  # pylint: disable=redefined-outer-name
    report = str(tmp_path / "preflight.json")
    result = run_playbook(inventory, "-e", "preflight_target_qemu_version=99.0.0",
                          "-e", "preflight_json_path=%s" % report)
    assert result.returncode == 2, result.stdout[-6000:]
    assert result.stdout.index("Show the upgrade checks") < result.stdout.index("Fail when a check failed")
    assert "QEMU" in result.stdout and "older than the target's minimum 99.0.0" in result.stdout
    with open(report, encoding="utf-8") as handle:
        written = json.load(handle)
    assert written["rc"] == 2
    assert set(r["result"] for r in written["checks"] if r["check"] == "versions") == {"Failure"}
