# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compute-side claims: the host re-checks a placement before anything is built.

The scheduler works from facts gathered a while ago, and two playbooks may
schedule onto one host at the same time. So, as Nova's compute host does,
the target re-checks under its exclusive lock (state_folder.host_lock):
what libvirt says now, plus the claims still in flight there, must leave
room for the request (pinned CPUs free, memory per cell, allocation ratios).
The check is the scheduler's own filters and NUMA fit run on that one host,
so a claim refuses exactly what scheduling would refuse.

A claim is recorded in ``<state_dir>/claims.json`` with the domain XML it is
for; until that guest is defined, every later claim counts it as a guest.
The guest's metadata carries the claim id (``placement.claim``): once the
guest is defined, the claim is spent and dropped. A claim whose operation
died (a killed playbook) expires after its time to live.
"""

from __future__ import annotations

import copy
import datetime
import os
import uuid

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import VmfleetError
from ansible_collections.vmfleet.compute.plugins.module_utils.host.facts import gather_host_facts
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt import connection as libvirt_client
from ansible_collections.vmfleet.compute.plugins.module_utils.libvirt.domain_xml import parse_domain
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.scheduler import Scheduler
from ansible_collections.vmfleet.compute.plugins.module_utils.state import maintenance as maintenance_record
from ansible_collections.vmfleet.compute.plugins.module_utils.state import folder as state_folder

CLAIMS_FILE = "claims.json"
DEFAULT_TTL = 900
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class ClaimFailed(VmfleetError):
    """The host cannot take the request now. A playbook's retry excludes the host
    (schedule's ``hints.retry_exclude``) and schedules again."""

    def __init__(self, host, reasons):
        message = "claim failed on %s: %s" % (host, "; ".join(reasons) or "the host refused the request")
        super().__init__(message, claim_failed=True, host=host, reasons=list(reasons), retry_exclude=[host])
        self.host = host


class Claim(object):
    """Resources held on one host for one guest that is about to be defined there."""

    def __init__(self, claim_id, host, placement, domain_xml, facts):
        self.id = claim_id
        self.host = host              # host name
        self.placement = placement    # Placement.to_dict() plus "claim": id
        self.domain_xml = domain_xml  # what will be defined
        self.facts = facts            # the host's facts at claim time, earlier claims included

    def to_dict(self):
        return {"id": self.id, "host": self.host, "placement": self.placement}


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _path(state_dir):
    return os.path.join(state_dir, CLAIMS_FILE)


def read_claims(state_dir):
    """Every recorded claim, spent or not (a list of dicts)."""
    data = state_folder.read_json(_path(state_dir), "claims record", default={"claims": []})
    claims = data.get("claims") if isinstance(data, dict) else None
    if not isinstance(claims, list):
        raise VmfleetError("claims record %s has no list 'claims': fix or remove it" % _path(state_dir),
                           path=_path(state_dir))
    return claims


def _claim_of(guest):
    placement = (guest.get("metadata") or {}).get("placement")
    return placement.get("claim") if isinstance(placement, dict) else None


def live_claims(claims, defined_guests, now=None):
    """The claims still holding resources: not expired, and whose guest is not
    defined yet (a defined guest is counted by libvirt itself)."""
    now = now or _now()
    spent = set(_claim_of(g) for g in defined_guests) - {None}
    alive = []
    for claim in claims:
        try:
            expires = datetime.datetime.strptime(claim["expires_at"], _TIME_FORMAT).replace(
                tzinfo=datetime.timezone.utc)
        except (KeyError, TypeError, ValueError):
            continue  # unreadable entries hold nothing
        if expires > now and claim.get("id") not in spent:
            alive.append(claim)
    return alive


def claim(conn, host, spec, render, scheduler_config=None, ttl=DEFAULT_TTL, lock_timeout=None):
    """Claim resources for ``spec`` (a RequestSpec) on ``host`` and return a ``Claim``.

    ``host``: ``{name, uri, state_dir, config}`` (config: host_config's
    normalized settings, as host facts carry them). ``render(placement, facts)``
    returns the domain XML for the placement dict (which already holds the
    claim id under ``claim``). Raises ClaimFailed when the host cannot take
    the request now; nothing is recorded then.
    """
    state_dir = state_folder.require(host.get("state_dir"), host["name"])
    timeout = lock_timeout or state_folder.DEFAULT_LOCK_TIMEOUT
    with state_folder.host_lock(state_dir, timeout=timeout, host=host["name"]):
        now = _now()
        unexpired = live_claims(read_claims(state_dir), [], now)
        alive = live_claims(unexpired, _defined_guests(conn, unexpired), now)
        pending = [parse_domain(c["domain_xml"]) for c in alive if c.get("domain_xml")]
        facts = gather_host_facts(conn, host["name"], host.get("uri"), host["config"],
                                  maintenance=maintenance_record.read_state(state_dir), pending=pending)
        placement = _place_on(facts, spec, scheduler_config)
        claim_id = str(uuid.uuid4())
        placement["claim"] = claim_id
        domain_xml = render(placement, facts)
        alive.append({
            "id": claim_id,
            "instance": spec.name,
            "host": host["name"],
            "created_at": now.strftime(_TIME_FORMAT),
            "expires_at": (now + datetime.timedelta(seconds=ttl)).strftime(_TIME_FORMAT),
            "domain_xml": domain_xml,
        })
        state_folder.write_json(_path(state_dir), {"claims": alive}, "claims record")
    return Claim(claim_id, host["name"], placement, domain_xml, facts)


def drop(host, claim_id):
    """Forget a claim (its guest is defined, or the operation gave up)."""
    state_dir = state_folder.require(host.get("state_dir"), host["name"])
    with state_folder.host_lock(state_dir, host=host["name"]):
        claims = read_claims(state_dir)
        kept = [c for c in claims if c.get("id") != claim_id]
        if len(kept) != len(claims):
            state_folder.write_json(_path(state_dir), {"claims": kept}, "claims record")


def _defined_guests(conn, claims):
    """The guests defined on the host for these claims (looked up by UUID: a claim is spent once its guest,
    carrying the claim id in its metadata, is defined)."""
    libvirt = libvirt_client.libvirt
    guests = []
    for claim_record in claims:
        try:
            uuid_text = parse_domain(claim_record["domain_xml"])["uuid"]
            guests.append(parse_domain(conn.lookupByUUIDString(uuid_text).XMLDesc(0)))
        except (KeyError, VmfleetError):
            continue  # an unreadable claim holds nothing (live_claims drops it)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise libvirt_client.unreachable(claim_record.get("host"), conn.getURI(), exc)
    return guests


def _place_on(facts, spec, scheduler_config):
    """The scheduler's filters and NUMA fit on this one host, with its current usage."""
    state = HostState.from_facts(facts)
    # the claim is for this host whatever the request's retry list says (the caller's spec is left alone)
    spec = copy.copy(spec)
    spec.force_host, spec.force, spec.retry_exclude = facts["name"], False, ()
    outcome = Scheduler([state], scheduler_config).place(spec)
    if outcome.placement is None:
        raise ClaimFailed(facts["name"], [str(verdict) for verdict in outcome.rejections] or [outcome.error])
    return outcome.placement.to_dict()
