"""Helpers shared by the Python OPA runners: the host's result compared up to settings positions,
and the Conftest-style deny messages of a decision."""

import re


def positions(message):
    return re.sub(r" at line \d+ column \d+", "", message)


def assert_same_as_host(got, want):
    """Decisions equal; errors of the same kind and message (OPA hosts pass settings as `data`, so
    the policy sees them re-serialized: line and column positions may differ)."""
    if "decision" in want:
        assert got == want
        return
    assert "error" in got, f"expected an error, got {str(got)[:200]}"
    assert got["error"]["kind"] == want["error"]["kind"]
    assert positions(got["error"]["message"]) == positions(want["error"]["message"])


def deny_messages(decision):
    return [
        f"{f['control_id']}: {f['message']} ({f['rule_id']})"
        for f in decision["findings"]
        if f["severity"] in ("high", "critical")
    ]
