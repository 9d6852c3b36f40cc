# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which hosts a request is scored on: all of them (Nova), or a sample
(kube-scheduler's ``percentageOfNodesToScore``).

Nova filters every host and normalises each weigher over every host that
passes, so one request costs O(hosts). kube-scheduler stops filtering once it
has found enough feasible nodes and scores only those; the next pod starts
where the last one stopped, so every node gets its turn. ``percentage_of_hosts_to_score``
chooses:

- 100 (the default): every host, Nova's exact semantics;
- 1 to 99: stop after that share of the hosts passed the filters (never fewer
  than ``MIN_HOSTS_TO_FIND``);
- 0: kube-scheduler's adaptive share, ``50 - hosts / 125`` percent, at least 5.

A sample changes which host wins, never whether one is found: when the hosts
found so far are all refused by the NUMA claim, scanning goes on, and a request
no host takes has been tried on every host, so its "No valid host" answer still
lists every host's reason.
"""

from __future__ import annotations

ALL_HOSTS = 100
ADAPTIVE = 0
MIN_HOSTS_TO_FIND = 100     # kube-scheduler's minFeasibleNodesToFind
MIN_ADAPTIVE_PERCENTAGE = 5  # kube-scheduler's minFeasibleNodesPercentageToFind
MIN_CHUNK = 32              # smallest slice filtered at once: the filters' per-call cost stays small


def hosts_to_find(total, percentage):
    """How many passing hosts to find before scoring, out of ``total`` hosts."""
    if percentage >= ALL_HOSTS or total <= MIN_HOSTS_TO_FIND:
        return total
    if percentage == ADAPTIVE:
        percentage = max(MIN_ADAPTIVE_PERCENTAGE, 50 - total // 125)
    return min(total, max(MIN_HOSTS_TO_FIND, total * percentage // 100))


class HostSampler(object):
    """Hands out the hosts of one request slice by slice, from where the last
    request stopped, wrapping around once."""

    def __init__(self, hosts, percentage):
        self.hosts = hosts
        self.wanted = hosts_to_find(len(hosts), percentage)
        self.start = 0

    @property
    def samples(self):
        return self.wanted < len(self.hosts)

    def slices(self, found):
        """Yield lists of hosts until every host was handed out; ``found()`` says
        how many passing hosts the caller holds, which sizes the next slice."""
        hosts, total = self.hosts, len(self.hosts)
        given = 0
        position = self.start
        while given < total:
            size = min(total - given, max(MIN_CHUNK, self.wanted - found()))
            end = position + size
            if end <= total:
                chunk = hosts[position:end]
            else:
                chunk = hosts[position:] + hosts[:end - total]
            given += size
            position = end % total
            # the next request starts after the last host this one looked at
            self.start = position
            yield chunk
