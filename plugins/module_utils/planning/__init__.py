# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans over the fleet's facts that more than one operation must agree on (pure: no libvirt).

- ``guest_request``: the request that would place a guest of the facts again
- ``evacuation``: where every guest of a host would go if the host were emptied (the drain's
  plan, N+1 of the preflight, and later admission control all ask it)
- ``rebalance``: the moves that lower the spread of use across hosts, or empty hosts (consolidate)
"""
