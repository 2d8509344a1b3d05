"""A build says where it is, so a long build of a large site is seen to be moving."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import BuildExample


def test_a_build_logs_each_stage(
    build_example: BuildExample, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="publish.site.build"):
        result = build_example()
    assert result.ok, result.errors
    events = [r.getMessage().split()[:2] for r in caplog.records if r.name == "publish.site.build"]
    assert [e[0] for e in events] == [
        "event=build.start",
        "event=build.progress",
        "event=build.progress",
        "event=build.progress",
        "event=build.done",
    ]
    assert [e[1] for e in events[1:4]] == ["stage=articles", "stage=pages", "stage=written"]
