# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

from ansible_collections.vmfleet.compute.plugins.module_utils.instances.claims import live_claims, read_claims

NOW = datetime.datetime(2026, 11, 21, 8, 0, 0, tzinfo=datetime.timezone.utc)


def _claim(claim_id, expires):
    return {"id": claim_id, "instance": "vm-" + claim_id, "expires_at": expires, "domain_xml": "<domain/>"}


def test_live_claims_drop_expired_spent_and_unreadable():
    claims = [_claim("a", "2026-11-21T08:10:00Z"), _claim("b", "2026-11-21T07:59:59Z"),
              _claim("c", "2026-11-21T08:10:00Z"), _claim("d", "soon")]
    defined = [{"name": "vm-c", "metadata": {"placement": {"claim": "c"}}}, {"name": "other", "metadata": None}]
    assert [c["id"] for c in live_claims(claims, defined, NOW)] == ["a"]


def test_read_claims_without_a_record_is_empty(tmp_path):
    assert read_claims(str(tmp_path)) == []
    (tmp_path / "claims.json").write_text('{"claims": [{"id": "x"}]}')
    assert read_claims(str(tmp_path)) == [{"id": "x"}]
