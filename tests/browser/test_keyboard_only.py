"""One role's whole path with the keyboard alone (Tab, Shift+Tab, Enter, Space): the labour
office signs in, finds the referral in its inbox, accepts it and records the support given.
At every stop the focused control must show a visible focus indicator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.settings import Settings
from tests.browser.conftest import Visit
from tests.browser.partners import PERSON, demo_partners, open_case, referral_to_pup
from tests.stack import Api

# What the focused element is, and whether its focus can be seen: an outline of 2px or more
# (or a box shadow) drawn because of :focus-visible, i.e. the keyboard's focus style.
FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  return {
    tag: el.tagName.toLowerCase(),
    text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim(),
    href: el.getAttribute('href'),
    name: el.getAttribute('name'),
    value: el.getAttribute('value'),
    checked: el.checked === true,
    visible: el.matches(':focus-visible') && (outline || style.boxShadow !== 'none'),
  };
}"""


@pytest.fixture(scope="module")
async def partners(stack: Settings) -> AsyncIterator[dict[str, str]]:
    api = Api(stack)
    yield await demo_partners(api)
    await api.http.aclose()


class Keyboard:
    """Moves the focus with Tab (or Shift+Tab) until it reaches what is wanted, checking the
    focus is visible at every stop on the way."""

    def __init__(self, visit: Visit) -> None:
        self.visit = visit
        self.stops = 0

    async def focused(self) -> dict[str, object]:
        found = await self.visit.page.evaluate(FOCUS)
        assert found is not None, "the focus is nowhere after a key press"
        assert found["visible"], f"no visible focus on {found}"
        self.stops += 1
        return found

    async def tab_to(self, wanted: dict[str, object], *, back: bool = False, most: int = 80):
        key = "Shift+Tab" if back else "Tab"
        for _ in range(most):
            await self.visit.page.keyboard.press(key)
            found = await self.focused()
            if all(found.get(k) == v for k, v in wanted.items()):
                return found
        raise AssertionError(f"{key} never reached {wanted}")

    async def press(self, key: str) -> None:
        assert key in ("Enter", "Space")
        await self.visit.page.keyboard.press(key)


async def test_institution_answers_a_referral_with_the_keyboard_alone(
    visit: Visit, api: Api, partners: dict[str, str]
) -> None:
    case_id = await open_case(api, surname="Klawiszowa")
    referral_id = await referral_to_pup(api, case_id, partners)
    page, keys = visit.page, Keyboard(visit)

    await visit.goto("/logowanie")  # the address typed in, as a person would
    await keys.tab_to({"tag": "button", "value": None, "text": _sign_in_text()})
    async with page.expect_navigation():
        await keys.press("Enter")
    assert page.url.endswith("/skierowania")
    await visit.check("skierowania klawiatura")

    # To the referral's link, a step back with Shift+Tab, forward again, and in.
    link = {"tag": "a", "href": f"/skierowania/{referral_id}"}
    await keys.tab_to(link)
    await page.keyboard.press("Shift+Tab")
    assert (await keys.focused())["href"] != link["href"]
    await keys.tab_to(link)
    async with page.expect_navigation():
        await keys.press("Enter")
    assert await visit.heading() == "Skierowanie: doradztwo zawodowe"
    await visit.check("skierowanie klawiatura")

    await keys.tab_to({"tag": "button", "text": "Przyjmij skierowanie"})
    async with page.expect_navigation():
        await keys.press("Enter")
    assert await page.get_by_role("status").inner_text() == "Skierowanie zostało przyjęte."
    await visit.check("przyjete klawiatura")

    # The outcome: Tab into the group (its first choice), Space to choose it, then send.
    first = await keys.tab_to({"tag": "input", "name": "outcome"})
    assert first["value"] == "achieved" and not first["checked"]
    await keys.press("Space")
    assert (await keys.focused())["checked"] is True
    await keys.tab_to({"tag": "button", "text": "Zapisz realizację"})
    async with page.expect_navigation():
        await keys.press("Enter")
    assert await page.get_by_role("status").inner_text() == "Realizacja wsparcia została zapisana."
    assert await page.locator(".status").inner_text() == "zrealizowane"
    assert "cel osiągnięty" in await page.locator("dl.facts").inner_text()
    await visit.check("zrealizowane klawiatura")
    assert keys.stops > 10


def _sign_in_text() -> str:
    """The text of the demo person's sign-in button."""
    return f"Zaloguj jako {PERSON['institution_staff']['name']}"
