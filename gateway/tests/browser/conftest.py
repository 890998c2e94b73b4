"""The browser tests share one stack per module (gateway.testing) and one Chromium."""

from collections.abc import AsyncIterator

import pytest_asyncio
from browser_steps import chromium
from gateway.testing import stack
from playwright.async_api import Browser, async_playwright

__all__ = ["browser", "stack"]


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium(), headless=True)
        try:
            yield launched
        finally:
            await launched.close()
