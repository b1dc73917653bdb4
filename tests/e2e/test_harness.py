"""The browser harness notices what it promises to notice."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .conftest import outside_the_browser_loop

pytestmark = pytest.mark.browser


def test_the_harness_notices_console_errors_csp_violations_and_accessibility_problems(desktop):
    desktop.goto("/accounts/login/")
    assert desktop.problems == []

    desktop.page.evaluate(
        """document.querySelector("main").insertAdjacentHTML(
          "beforeend", '<p style="color: red">styled</p><img src="/static/img/favicon.svg">'
        )"""
    )
    desktop.page.evaluate("console.error('something broke')")
    desktop.audit()

    found = "\n".join(desktop.problems)
    desktop.problems.clear()  # noticed; this test is not about them
    assert "style-src" in found
    assert "something broke" in found
    assert "image-alt" in found


def test_channel_layer_calls_work_through_outside_the_browser_loop(desktop):
    layer = get_channel_layer()

    async def round_trip() -> dict:
        # One event loop for all three: a publish/subscribe layer hears only what is sent
        # after it subscribed, in the same loop.
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "ping"})
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    assert outside_the_browser_loop(async_to_sync(round_trip)) == {"type": "ping"}
