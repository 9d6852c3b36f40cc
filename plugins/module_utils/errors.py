# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions of the collection's library code.

Library code raises these; modules turn them into ``fail_json`` results.
Each carries the structured fields a playbook may want to act on, and a
message a person can act on.
"""

from __future__ import annotations


class VmfleetError(Exception):
    """Base class: everything the library raises on purpose."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_result(self):
        """Fields for ``module.fail_json`` besides ``msg``."""
        return dict(self.details)

    def within(self, context, **details):
        """Prefix the message with where the error happened (e.g. which item of
        a list) and add ``details``; returns the same error, for ``raise``."""
        self.message = "%s: %s" % (context, self.message)
        self.args = (self.message,)
        self.details.update(details)
        return self


class InvalidInput(VmfleetError):
    """A value given by the user is not allowed. Raised before anything changes."""

    def __init__(self, field, value, allowed, reason=None):
        message = "invalid %s=%r: %s" % (field, value, reason or ("allowed: %s" % allowed))
        if reason:
            message += " (allowed: %s)" % allowed
        super().__init__(message, field=field, value=value, allowed=allowed)
        self.field = field
        self.value = value
        self.allowed = allowed


def whole_number(field, value, minimum=0):
    """``value`` (an int, or its text) as an int of at least ``minimum``; else InvalidInput.

    Booleans are refused: YAML's ``yes`` must not become 1."""
    allowed = "a whole number of %d or more" % minimum
    if isinstance(value, bool):
        raise InvalidInput(field, value, allowed)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(field, value, allowed)
    if number < minimum:
        raise InvalidInput(field, value, allowed)
    return number


class HostUnreachable(VmfleetError):
    """A libvirt daemon could not be reached, or refused us."""

    def __init__(self, host, uri, reason, hint):
        message = "host %s (%s): %s. %s" % (host, uri, reason, hint)
        super().__init__(message, host=host, uri=uri, reason=reason)
