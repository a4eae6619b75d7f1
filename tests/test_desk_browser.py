"""The review desk in real headless Chromium: find a string, break it, fix it, approve it, see the print.

Needs Debian's `chromium` and `chromium-driver` (`make install` installs them);
skips, saying so, only where they are not installed. The server runs in a
thread on 127.0.0.1 with a free port; nothing leaves the machine.
Screenshots go to the test project's output/ folder.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian packages chromium and chromium-driver are not installed (make install installs them)",
)
WAIT_S = 30  # generous: the machine is shared


REVIEWER = "Ana Reviewer"  # a test reviewer (conftest.TEST_REVIEWERS), signing with the test key
MIXING = "mixing-raises-death-risk"
WRONG_BACK = "Keep Narcan at home and tell your friends where it is."  # a stored back-translation that says something else


@pytest.fixture
def desk_server(project_dir: Path, keys):
    from conftest import NOW

    from pipeline.approval import language_states
    from pipeline.catalog import BackTranslation, read_catalog, translation_fingerprint, write_catalog
    from pipeline.content import read_source
    from pipeline.desk.server import make_server, prepare_desk
    from pipeline.project import Project

    shutil.copy(REPO / "translations" / "es.po", project_dir / "translations" / "es.po")
    project = Project(project_dir)
    saved = language_states(read_source(project), "es")[MIXING].translation
    catalog = read_catalog(project, "es")
    catalog.set_back_translation(MIXING, BackTranslation(WRONG_BACK, "test engine es-en 1.0", "2026-11-21", translation_fingerprint(saved)))
    write_catalog(catalog, NOW)
    desk, guard, sock = prepare_desk(project_dir, keys[REVIEWER], None, "127.0.0.1", 0)
    server = make_server(desk, guard)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the desk did not start"
    yield desk, guard
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    assert not thread.is_alive(), "the desk did not stop"


@pytest.fixture
def browser(tmp_path: Path, monkeypatch):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium must never fetch a driver or a browser
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                     "--window-size=1500,1400", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_review_a_string_in_the_browser(desk_server, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    desk, guard = desk_server
    shots = desk.root / "output"
    shots.mkdir(exist_ok=True)
    # A page reloads after a decision: an element found just before may go stale; look again.
    wait = WebDriverWait(browser, WAIT_S, ignored_exceptions=[StaleElementReferenceException])

    def preview_ready(expected_text: str):
        return lambda d: (d.find_element(By.CSS_SELECTOR, ".string-layout").get_attribute("data-preview-state") == "ready"
                          and d.find_element(By.CSS_SELECTOR, ".string-layout").get_attribute("data-preview-text") == expected_text
                          and d.find_elements(By.CSS_SELECTOR, "#preview-pages img"))

    def preview_of_current_text(d):
        """The preview shows the text now in the box (read afresh each time: the page may have reloaded)."""
        return preview_ready(d.find_element(By.ID, "text").get_attribute("value"))(d)

    def image_loaded(d):
        return d.execute_script("const i = document.querySelector('#preview-pages img'); return !!i && i.complete && i.naturalWidth > 0;")

    # The link with the token lands on the languages; the token leaves the address.
    browser.get(guard.url())
    assert "token=" not in browser.current_url
    assert "may approve" in browser.find_element(By.CSS_SELECTOR, "table.counts").text  # the key's owner may decide on es
    browser.save_screenshot(str(shots / "desk-0-languages.png"))
    browser.find_element(By.LINK_TEXT, "Spanish (es)").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.strings")))
    browser.save_screenshot(str(shots / "desk-1-overview.png"))

    # Open a string: its English, its text, and the card it prints on with its box outlined.
    browser.find_element(By.LINK_TEXT, "call-emergency").click()
    text_box = wait.until(ec.presence_of_element_located((By.ID, "text")))
    saved = text_box.get_attribute("value")
    wait.until(preview_ready(saved))
    wait.until(image_loaded)
    first_preview = browser.find_element(By.CSS_SELECTOR, "#preview-pages img").get_attribute("src")
    assert "{emergency}" in browser.find_element(By.CSS_SELECTOR, "p.english").text

    # Type an edit that drops {emergency}: the error appears and approving is blocked.
    broken = "Llama a emergencias ahora, da la dirección y di que la persona no respira o no despierta."
    text_box.clear()
    text_box.send_keys(broken)
    wait.until(lambda d: "placeholders" in d.find_element(By.ID, "findings").text)
    assert "missing {emergency}" in browser.find_element(By.ID, "findings").text
    assert not browser.find_element(By.ID, "approve").is_enabled()
    wait.until(preview_ready(broken))
    wait.until(image_loaded)
    browser.save_screenshot(str(shots / "desk-2-error.png"))

    # Fix it: the error goes, the preview shows the typed text (before anything is saved).
    fixed = "Llama ya al {emergency}, da la dirección y di que la persona no respira o no despierta."
    text_box.clear()
    text_box.send_keys(fixed)
    wait.until(lambda d: "placeholders" not in d.find_element(By.ID, "findings").text)
    wait.until(lambda d: d.find_element(By.ID, "approve").is_enabled())
    wait.until(preview_ready(fixed))
    wait.until(image_loaded)
    assert browser.find_element(By.CSS_SELECTOR, "#preview-pages img").get_attribute("src") != first_preview
    browser.save_screenshot(str(shots / "desk-3-fixed.png"))
    assert not (desk.root / "translations" / "ledger" / "es.jsonl").exists()

    # Approve from the keyboard: Esc leaves the text box, then `a`.
    text_box.send_keys(Keys.ESCAPE)
    assert browser.execute_script("return document.activeElement === document.body")
    ActionChains(browser).send_keys("a").perform()
    wait.until(lambda d: d.find_element(By.ID, "state").text == "approved")
    assert "Approved" in browser.find_element(By.CSS_SELECTOR, "p.done").text
    wait.until(preview_ready(fixed))
    wait.until(image_loaded)
    browser.save_screenshot(str(shots / "desk-4-approved.png"))

    records = [json.loads(line) for line in (desk.root / "translations" / "ledger" / "es.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["string_id"], r["action"], r["reviewer"], r["translation"]) for r in records] == [("call-emergency", "approve", REVIEWER, fixed)]
    assert records[0]["key"] == desk.key.public_line and records[0]["signature"]
    assert "approved" in browser.find_element(By.CSS_SELECTOR, "ol.history").text

    # A string with a warning (its back-translation says something else): approving needs the warning ticked.
    browser.get(guard.url(f"/lang/es/string/{MIXING}"))
    wait.until(preview_of_current_text)
    wait.until(image_loaded)
    assert WRONG_BACK in browser.find_element(By.CSS_SELECTOR, ".back-translation").text
    assert "low" in browser.find_element(By.CSS_SELECTOR, ".chrf").text
    box = browser.find_element(By.CSS_SELECTOR, 'input[name="acknowledge"][value="back-translation"]')
    label = box.find_element(By.XPATH, "ancestor::label")
    assert "I have read this warning" in label.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    browser.save_screenshot(str(shots / "desk-5-warning.png"))
    ActionChains(browser).send_keys("a").perform()  # not ticked: the desk refuses and says why
    wait.until(lambda d: "tick “I have read this warning”" in d.find_element(By.CSS_SELECTOR, "ul.problems").text)
    assert browser.find_element(By.ID, "state").text != "approved"
    browser.save_screenshot(str(shots / "desk-6-refused.png"))
    box = browser.find_element(By.CSS_SELECTOR, 'input[name="acknowledge"][value="back-translation"]')
    box.send_keys(Keys.SPACE)  # ticked from the keyboard; `a` still approves with the box focused
    assert box.is_selected()
    ActionChains(browser).send_keys("a").perform()
    wait.until(lambda d: d.find_element(By.ID, "state").text == "approved")
    wait.until(preview_of_current_text)
    wait.until(image_loaded)
    assert "acknowledged warning: the back-translation says" in browser.find_element(By.CSS_SELECTOR, "ol.history").text
    browser.execute_script("document.querySelector('.back-translation').scrollIntoView({block: 'center'})")
    browser.save_screenshot(str(shots / "desk-7-acknowledged.png"))
    records = [json.loads(line) for line in (desk.root / "translations" / "ledger" / "es.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records[-1]["string_id"] == MIXING and [a["check"] for a in records[-1]["acknowledged"]] == ["back-translation"]

    for name in ("desk-0-languages", "desk-1-overview", "desk-2-error", "desk-3-fixed", "desk-4-approved", "desk-5-warning", "desk-6-refused", "desk-7-acknowledged"):
        assert (shots / f"{name}.png").stat().st_size > 10_000
