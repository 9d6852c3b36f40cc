# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The placement engine: Nova's filter / weigh scheduler for libvirt fleets.

One concept per module:

- ``request_spec``: flavor + image + hints -> validated ``RequestSpec``
- ``cpu_topology``: guest sockets / cores / threads
- ``host_state``: ``HostState`` from host facts; ``consume`` / ``release``
- ``numa_fit``: guest NUMA cells onto host cells, with CPU pinning
- ``server_group``: a server group's members, read from the fleet's guests, claims and the batch
- ``floating_pool``: whether a pin may be given on a host, and the CPUs its floating guests give up
- ``filters`` / ``weighers``: Nova's filters and weighers, by Nova's names
- ``config``: the scheduler configuration
- ``scheduler``: the pipeline, ``schedule(hosts, requests, config)``
"""
