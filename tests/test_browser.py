"""The HTML report in a real browser: headless Chromium through chromedriver."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from summarizer.render import to_html

from .conftest import SEED
from .test_review import make_brief

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "Chromium and chromedriver are not installed (Debian packages chromium, chromium-driver; "
        ".ci/run installs them)",
        allow_module_level=True,
    )

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture
def browser(tmp_path: Path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_every_claim_is_highlighted_and_clicking_reveals_its_details(browser, tmp_path: Path) -> None:
    brief = make_brief()
    page = tmp_path / "brief.html"
    page.write_text(to_html(brief, SEED.read_text(encoding="utf-8")), encoding="utf-8")
    browser.get(page.as_uri())

    for claim in brief.claims:
        marks = browser.find_elements(By.CSS_SELECTOR, f'mark.claim[data-ids~="{claim.id}"]')
        assert marks, f"no highlight for {claim.id}"
        assert "".join(m.text for m in marks).replace("\n", " ").startswith(claim.evidence.quote[:20])
    details = browser.find_element(By.ID, "details")
    assert not details.is_displayed()

    target = brief.claims[-1]
    browser.find_element(By.CSS_SELECTOR, f'button.item[data-id="{target.id}"]').click()
    assert details.is_displayed()
    assert target.claimant in details.text and target.status.value in details.text
    selected = browser.find_elements(By.CSS_SELECTOR, f'mark.selected[data-ids~="{target.id}"]')
    assert selected, "the claim's evidence is not marked as selected"

    first = brief.claims[0]
    browser.find_element(By.CSS_SELECTOR, f'mark.claim[data-ids~="{first.id}"]').click()
    assert f"{first.id} (claim)" in details.text and first.statement in details.text
    if first.figures:
        assert "3000" in details.text or "3,000" in details.text

    shot = tmp_path / "brief.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # kept in tmp_path: tests write nowhere else


def test_a_script_inside_the_document_does_not_run(browser, tmp_path: Path) -> None:
    text = (
        'Officials said <script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'
        " that at least 12 people died, according to the ministry."
    )
    brief = make_brief(text=text, path="evil.txt")
    page = tmp_path / "evil.html"
    page.write_text(to_html(brief, text), encoding="utf-8")
    browser.get(page.as_uri())
    assert browser.title != "pwned"
    assert "<script>" in browser.find_element(By.ID, "source").text


def test_a_claim_of_several_claimants_names_them_all_as_text(browser, tmp_path: Path) -> None:
    from summarizer.models import CoClaimant

    from .test_claimants import TEXT, rules_brief

    brief = rules_brief(TEXT)
    claim = next(c for c in brief.claims if c.also)
    other = CoClaimant(name="<b id='injected'>ABC</b> News", actor_id=claim.also[0].actor_id)  # hostile: stays text
    brief = brief.model_copy(
        update={"claims": [c.model_copy(update={"also": [other]}) if c is claim else c for c in brief.claims]}
    )
    page = tmp_path / "brief.html"
    page.write_text(to_html(brief, TEXT), encoding="utf-8")
    browser.get(page.as_uri())
    button = browser.find_element(By.CSS_SELECTOR, f'button.item[data-id="{claim.id}"]')
    assert "NBC News and <b id='injected'>ABC</b> News" in button.text
    button.click()
    details = browser.find_element(By.ID, "details")
    assert "Claimants" in details.text and "NBC News and <b id='injected'>ABC</b> News" in details.text
    assert not browser.find_elements(By.ID, "injected")
