# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one module base every vmfleet module is built on.

In the manner of kubernetes.core's ``AnsibleK8SModule`` and amazon.aws'
``AnsibleAWSModule``: the module file declares its arguments and hands a
function to ``run``; this class owns what every module would otherwise repeat:
check mode (always supported: a plan is a first-class result), the libvirt
binding's presence, turning the library's ``VmfleetError`` into ``fail_json``
with its structured fields, diff mode, and warnings.

This is the only file of ``module_utils`` that sees ``AnsibleModule``; the
library below it raises exceptions and returns dicts.
"""

from __future__ import annotations

import getpass
import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection

# Result keys the base reads and removes before returning the result.
DIFF = "diff"
FAILED = "failed"
WARNINGS = "warnings"


def current_user():
    """Who runs the module, for the records that say who did something (a cordon, a drain's lock); None
    when the process has no user name (containers without a passwd entry: the record says "unknown")."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # pylint: disable=broad-except
        return None


def diff(before, after, header):
    """A result's ``diff`` entry: ``header`` names what is compared (e.g. "demo-db1 (domain XML)")."""
    return {"before": before, "after": after, "before_header": header, "after_header": header}


class VmfleetModule(object):
    """``AnsibleModule`` plus what every vmfleet module needs.

    ``needs_libvirt``: the module opens libvirt connections (it fails early,
    with the package to install, where the binding is missing). Other keyword
    arguments (``mutually_exclusive``, ``required_one_of``...) go to
    AnsibleModule unchanged.
    """

    def __init__(self, argument_spec, needs_libvirt=True, **constraints):
        self._module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **constraints)
        if needs_libvirt:
            self.require_libvirt()

    def require_libvirt(self):
        """Fail with the package to install where the libvirt binding is missing; for modules that
        connect only for some of their work (a drain, but not a cordon)."""
        if not connection.HAS_LIBVIRT:
            self._module.fail_json(msg=missing_required_lib("libvirt-python"),
                                   exception=connection.LIBVIRT_IMPORT_ERROR)

    @property
    def params(self):
        return self._module.params

    @property
    def check_mode(self):
        return self._module.check_mode

    @property
    def diff_mode(self):
        return self._module._diff

    def warn(self, message):
        self._module.warn(message)

    def run(self, work, *args, **kwargs):
        """Call ``work(*args, **kwargs)`` and end the module with what it returns.

        ``work`` returns the result dict. Three keys are the base's: ``diff``
        (kept only in diff mode; build it with ``diff()``), ``warnings`` (a
        list, shown as Ansible warnings) and ``failed`` (true: the task fails
        with the result, which carries its own ``msg``). A ``VmfleetError``
        fails the task with its message and fields, ``changed`` false.
        Never returns.
        """
        try:
            result = work(*args, **kwargs)
        except VmfleetError as error:
            self._module.fail_json(msg=error.message, changed=False, **error.to_result())
        if not self.diff_mode:
            result.pop(DIFF, None)
        for message in result.pop(WARNINGS, None) or ():
            self.warn(message)
        if result.pop(FAILED, False):
            self._module.fail_json(**result)
        # failed=False said outright: a result's "rc" other than 0 must not read as a failure
        self._module.exit_json(failed=False, **result)
