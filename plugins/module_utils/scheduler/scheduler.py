# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipeline: validate every request, then for each in order filter ->
weigh -> pick among the ``host_subset_size`` best -> claim the NUMA fit ->
consume on the chosen host, so the next request of the batch sees it.

With ``percentage_of_hosts_to_score`` below 100 filtering stops once enough
hosts passed and only those are weighed (kube-scheduler's sampling, see
``sampling``); the default weighs every host, as Nova.

A forced host (``hints.force_host``) still passes every filter; only with
``hints.force: true`` are the filters skipped, and the placement then lists
the verdicts it would have failed. A request no host takes gets the refusal
of every host: ``hv3: NUMATopologyFilter: cell 1 has ...``.
"""

from __future__ import annotations

import gc
import heapq
import random
from contextlib import contextmanager

from ansible_collections.vmfleet.compute.plugins.module_utils.errors import InvalidInput
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler import floating_pool, numa_fit
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.config import SchedulerConfig, build_config
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.filters import Bounds, Verdict
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.host_state import HostState
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.placement import Placement
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.request_spec import (
    RequestSpec, build_request_specs)
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.sampling import HostSampler
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.server_group import GroupIndex
from ansible_collections.vmfleet.compute.plugins.module_utils.scheduler.weighers import weigh

CLAIM = "NUMATopologyClaim"


class Outcome(object):
    """What happened to one request: a ``placement``, or an ``error``; and the refusals."""

    __slots__ = ("spec", "placement", "error", "refused", "_verdicts")

    def __init__(self, spec, placement=None, error=None, refused=()):
        self.spec = spec
        self.placement = placement
        self.error = error
        self.refused = refused      # [(filter name, [(host, reason), ...]), ...] as the filters answered
        self._verdicts = None

    @property
    def rejections(self):
        """A ``Verdict`` for every refused host, in the order the filters refused them."""
        if self._verdicts is None:
            self._verdicts = verdicts(self.refused)
        return self._verdicts

    def to_dict(self):
        if self.placement is not None:
            return self.placement.to_dict()
        return {"name": self.spec.name, "host": None, "error": self.error}


class ScheduleResult(object):
    def __init__(self, outcomes):
        self.outcomes = outcomes

    @property
    def placed(self):
        return [o.placement for o in self.outcomes if o.placement is not None]

    @property
    def failed(self):
        return [o for o in self.outcomes if o.placement is None]

    def rejections_dict(self):
        return dict((o.spec.name, [v.to_dict() for v in o.rejections]) for o in self.outcomes)

    def to_dict(self):
        return {"plan": [o.to_dict() for o in self.outcomes], "rejections": self.rejections_dict()}


def verdicts(refused):
    return [Verdict(host.name, name, False, str(reason)) for name, pairs in refused for host, reason in pairs]


def no_valid_host(spec, refused):
    lines = "; ".join(str(v) for v in verdicts(refused)) or "no hosts given"
    return "No valid host was found for %s: %s" % (spec.name, lines)


class Scheduler(object):
    """Places requests on ``hosts`` (HostState list) one after another."""

    def __init__(self, hosts, config=None, seed=None):
        self.hosts = list(hosts)
        self.by_name = dict((h.name, h) for h in self.hosts)
        if len(self.by_name) != len(self.hosts):
            names = [h.name for h in self.hosts]
            duplicate = sorted(set(n for n in names if names.count(n) > 1))
            raise InvalidInput("hosts[].name", duplicate[0], "each host once")
        self.config = config if isinstance(config, SchedulerConfig) else build_config(config)
        self.rng = random.Random(seed)
        self.bounds = Bounds(self.hosts)
        self.groups = GroupIndex(self.hosts)    # server group members, from the hosts' guests and the batch
        self.sampler = HostSampler(self.hosts, self.config["percentage_of_hosts_to_score"])
        index = numa_fit.FitIndex()
        for host in self.hosts:
            host.fit_index = index

    def check_specs(self, specs):
        """Refusals that need the host list (still before anything is placed)."""
        for spec in specs:
            if spec.force_host and spec.force_host not in self.by_name:
                raise InvalidInput("hints.force_host", spec.force_host, "one of the given hosts: %s"
                                   % ", ".join(sorted(self.by_name)))

    def run_filters(self, hosts, spec):
        """``(kept hosts, [(filter name, [(host, reason), ...]), ...])``; ``verdicts()`` flattens the latter."""
        config = self.config
        refused = []
        for flt in config.filters:
            if not hosts:
                break
            if not flt.applies(spec) or flt.passes_all(self.bounds, spec, config):
                continue
            hosts, rejected = flt.filter_hosts(hosts, spec, config)
            if rejected:
                refused.append((flt.name, rejected))
        return hosts, refused

    def place(self, spec):
        """Place one request and consume it; returns an ``Outcome``."""
        if spec.group:
            spec.group_members = self.groups.members_for(spec)
        if spec.force_host is not None:
            candidates = [self.by_name[spec.force_host]]
            would_fail = ()
            if spec.force:
                # filters skipped: every one that would have refused the host is listed
                checks = [f.check(candidates[0], spec, self.config) for f in self.config.filters if f.applies(spec)]
                kept, refused, would_fail = candidates, [], [v for v in checks if not v.passed]
            else:
                kept, refused = self.run_filters(candidates, spec)
            outcome = self._pick(spec, kept, refused, would_fail)
        elif not self.sampler.samples:
            kept, refused = self.run_filters(self.hosts, spec)
            outcome = self._pick(spec, kept, refused)
        else:
            outcome, refused = self._place_sampled(spec)
        if outcome is None:
            return Outcome(spec, error=no_valid_host(spec, refused), refused=refused)
        return outcome

    def _place_sampled(self, spec):
        """Filter slice after slice until enough hosts passed, weigh those (kube-scheduler's
        sampling); if the claim refuses them all, go on with the hosts not yet looked at.
        Returns ``(Outcome or None, refused)``."""
        kept, refused = [], []
        wanted = self.sampler.wanted
        for chunk in self.sampler.slices(kept.__len__):
            passed, chunk_refused = self.run_filters(chunk, spec)
            kept.extend(passed)
            refused.extend(chunk_refused)
            if len(kept) >= wanted:
                outcome = self._pick(spec, kept, refused)
                if outcome is not None:
                    return outcome, refused
                del kept[:]     # every one was refused by the claim, and is listed in refused
        return (self._pick(spec, kept, refused) if kept else None), refused

    def _pick(self, spec, kept, refused, would_fail=()):
        """Weigh ``kept``, claim the NUMA fit on the best one that takes it, consume it.
        Returns an ``Outcome``, or None when every kept host refused the claim (then
        ``refused`` lists them too)."""
        forced = spec.force_host is not None
        weights = weigh(kept, spec, self.config.weighers)
        left = len(kept)
        while left:
            # Nova: sort by weight (stable), pick at random among the host_subset_size best
            best = heapq.nlargest(min(self.config["host_subset_size"], left), range(len(kept)),
                                  key=weights.__getitem__)
            index = best[self.rng.randrange(len(best))] if len(best) > 1 else best[0]
            weight = weights[index]
            weights[index] = float("-inf")      # tried: never among the best again
            left -= 1
            host = kept[index]
            fit = numa_fit.fit(host, spec)
            if not fit:
                if forced and spec.force:
                    # forced past a failing NUMA fit: placed, without cells; the claim would fail
                    if not any(v.filter == "NUMATopologyFilter" for v in would_fail):
                        would_fail = list(would_fail) + [Verdict(host.name, CLAIM, False, fit.reason)]
                    fit = numa_fit.NumaFit(cells=None)
                else:
                    refused.append((CLAIM, [(host, fit.reason)]))
                    continue
            placement = Placement(spec, host.name, cells=fit.cells, topology=spec.topology,
                                  emulator_cpus=numa_fit.emulator_cpus(host, spec, fit.cells),
                                  cpuset=sorted(host.shared_cpus) if fit.cells is None else (),
                                  pci_claims=fit.pci_claims, weight=weight, forced=forced,
                                  would_fail=would_fail)
            why = floating_pool.pin_refusal(host, placement, host.cpus_taken(placement))
            if why:
                if not (forced and spec.force):
                    refused.append((CLAIM, [(host, why)]))
                    continue
                placement.would_fail.append(Verdict(host.name, CLAIM, False, why))
            host.consume(placement)
            self.bounds.widen(host)
            self.groups.placed(spec, host.name)
            return Outcome(spec, placement, refused=refused)
        return None

    def schedule(self, specs):
        self.check_specs(specs)
        with collector_paused():
            return ScheduleResult([self.place(spec) for spec in specs])


@contextmanager
def collector_paused():
    """Python's cycle collector off for one batch. A batch allocates many small
    short-lived objects (refusal pairs, fit results) and keeps some (fit caches),
    which triggers full collections that walk every object of every host: at
    5,000 hosts they took a third of the batch's time. The batch builds no
    reference cycles that only the collector could free, and the collector runs
    as before once it ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_hosts(hosts):
    """HostState objects from facts dicts (or registered results, or HostStates)."""
    states = []
    for index, facts in enumerate(hosts or ()):
        if isinstance(facts, HostState):
            states.append(facts)
            continue
        try:
            states.append(HostState.from_facts(facts))
        except InvalidInput as error:
            raise error.within("hosts[%d]" % index, host=index)
    return states


def schedule(hosts, requests, config=None, seed=None):
    """Place ``requests`` (dicts or RequestSpecs) on ``hosts`` (facts dicts or
    HostStates) in order; returns a ``ScheduleResult``. Raises ``InvalidInput``
    before anything is placed when a request or the configuration is wrong.
    HostState objects given are consumed in place."""
    config = config if isinstance(config, SchedulerConfig) else build_config(config)
    raw = [r for r in requests if not isinstance(r, RequestSpec)]
    specs = build_request_specs(raw, config.pci_aliases) if raw else []
    specs_iter = iter(specs)
    ordered = [r if isinstance(r, RequestSpec) else next(specs_iter) for r in requests]
    scheduler = Scheduler(build_hosts(hosts), config, seed)
    return scheduler.schedule(ordered)
