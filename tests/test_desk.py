"""The review desk over HTTP (Starlette's test client): access rules, pages, decisions, previews."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import warnings
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx versions
    from starlette.testclient import TestClient

from conftest import NOW, REPO

HOST, PORT = "127.0.0.1", 8765
BASE = f"http://{HOST}:{PORT}"


@pytest.fixture
def desk_project(project_dir: Path) -> Path:
    """The project copy with the shipped Spanish drafts."""
    shutil.copy(REPO / "translations" / "es.po", project_dir / "translations" / "es.po")
    return project_dir


REVIEWER = "Ana Reviewer"  # a test reviewer listed for all languages (conftest.TEST_REVIEWERS)


@pytest.fixture(autouse=True)
def _desk_keys(keys):
    """make_client signs with the test reviewers' keys."""
    KEYS.update(keys)


KEYS: dict = {}


def make_client(root: Path, clock=None, follow: bool = True, reviewer: str = REVIEWER):
    from pipeline.desk.app import Desk, create_app
    from pipeline.desk.security import Guard

    desk = Desk(root=root, key=KEYS[reviewer], reviewer=reviewer, clock=lambda: NOW)
    guard = Guard(host=HOST, port=PORT, **({"clock": clock} if clock else {}))
    client = TestClient(create_app(desk, guard), base_url=BASE, follow_redirects=follow)
    return client, guard, desk


def open_desk(root: Path, reviewer: str = REVIEWER):
    """A client that has opened the desk's link (so it holds the cookie)."""
    client, guard, desk = make_client(root, reviewer=reviewer)
    assert client.get(f"/?token={guard.token}", follow_redirects=False).status_code == 303
    client.desk_root = root
    return client, guard, desk


@pytest.fixture
def desk_client(desk_project: Path):
    return open_desk(desk_project)


def string_translation(root: Path, string_id: str) -> str:
    from pipeline.approval import language_states
    from pipeline.content import read_source
    from pipeline.project import Project

    return language_states(read_source(Project(root)), "es")[string_id].translation


def es_ledger(root: Path) -> list[dict]:
    path = root / "translations" / "ledger" / "es.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


# ---------------------------------------------------------------- access token


def test_no_token_is_refused(desk_project):
    client, _guard, _ = make_client(desk_project)
    for path in ("/", "/lang/es", "/lang/es/string/call-emergency", "/static/desk.js"):
        assert client.get(path).status_code == 403, path


def test_wrong_token_is_refused(desk_project):
    client, guard, _ = make_client(desk_project)
    assert client.get("/?token=" + "x" * len(guard.token)).status_code == 403
    client.cookies.set(guard.cookie_name, "not-the-token")
    assert client.get("/").status_code == 403


def test_token_becomes_a_strict_httponly_cookie_and_leaves_the_address(desk_project):
    client, guard, _ = make_client(desk_project, follow=False)
    response = client.get(f"/lang/es?state=stale&token={guard.token}")
    assert response.status_code == 303
    assert response.headers["location"] == "/lang/es?state=stale"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{guard.cookie_name}={guard.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/lang/es").status_code == 200  # the cookie alone lets it in now


def test_expired_token_is_refused(desk_project):
    now = [dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.timezone.utc)]
    client, guard, _ = make_client(desk_project, clock=lambda: now[0])
    assert client.get(f"/?token={guard.token}").status_code == 200
    now[0] += guard.lifetime + dt.timedelta(seconds=1)
    response = client.get("/")
    assert response.status_code == 403
    assert "expired" in response.text
    assert client.get(f"/?token={guard.token}").status_code == 403


# ---------------------------------------------------------------- Host header (DNS rebinding)


def test_foreign_host_header_is_refused_even_with_the_token(desk_client):
    client, guard, _ = desk_client
    assert client.get("/", headers={"host": f"attacker.example:{PORT}"}).status_code == 403
    assert client.get("/", headers={"host": f"{HOST}:{PORT + 1}"}).status_code == 403
    assert client.get("/", headers={"host": f"localhost:{PORT}"}).status_code == 200


# ---------------------------------------------------------------- CSRF and Origin


POST_ROUTES = (
    ("/lang/es/string/call-emergency/decide", "form", {"action": "save", "text": "Llama al {emergency}.", "base": ""}),
    ("/lang/es/string/call-emergency/reject", "form", {"reason": "no", "base": ""}),
    ("/api/lang/es/string/call-emergency/check", "json", {"text": "x"}),
    ("/api/lang/es/string/call-emergency/preview", "json", {"text": "x", "edition": "es-US", "format": "card"}),
)


@pytest.mark.parametrize("path,kind,body", POST_ROUTES)
def test_post_without_csrf_token_is_refused(desk_client, path, kind, body):
    client, guard, desk = desk_client
    before = (desk.root / "translations" / "es.po").read_bytes()
    response = client.post(path, data=body) if kind == "form" else client.post(path, json=body)
    assert response.status_code == 403
    wrong = {"csrf": "wrong"} if kind == "form" else {}
    response = client.post(path, data={**body, **wrong}) if kind == "form" else client.post(path, json=body, headers={"X-CSRF-Token": "wrong"})
    assert response.status_code == 403
    assert (desk.root / "translations" / "es.po").read_bytes() == before
    assert es_ledger(desk.root) == []


def test_every_post_route_is_covered_by_the_csrf_test(keys):
    from pipeline.desk.app import Desk, create_app
    from pipeline.desk.security import Guard

    app = create_app(Desk(root=REPO, key=keys[REVIEWER], reviewer=REVIEWER), Guard(host=HOST, port=PORT))
    posts = {route.path.replace("{language}", "es").replace("{string_id}", "call-emergency")
             for route in app.routes if "POST" in (getattr(route, "methods", None) or ())}
    assert posts == {path for path, _, _ in POST_ROUTES}


def test_post_from_another_origin_is_refused(desk_client):
    client, guard, _ = desk_client
    response = client.post("/api/lang/es/string/call-emergency/check", json={"text": "x"},
                           headers={"X-CSRF-Token": guard.csrf, "Origin": "http://attacker.example"})
    assert response.status_code == 403
    ok = client.post("/api/lang/es/string/call-emergency/check", json={"text": "x"},
                     headers={"X-CSRF-Token": guard.csrf, "Origin": BASE})
    assert ok.status_code == 200


def test_no_cors_and_a_strict_content_security_policy(desk_client):
    client, guard, _ = desk_client
    response = client.get("/lang/es", headers={"Origin": "http://attacker.example"})
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    preflight = client.options("/api/lang/es/string/call-emergency/check",
                               headers={"Origin": "http://attacker.example", "Access-Control-Request-Method": "POST"})
    assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        self.urls += [attrs[name] for name in ("src", "href", "action") if attrs.get(name) is not None]
        if tag == "script" and "src" not in attrs:
            self.inline_scripts += 1


def test_pages_load_nothing_from_outside(desk_client):
    client, _, _ = desk_client
    for path in ("/", "/lang/es", "/lang/es/string/call-emergency"):
        parser = _Links()
        parser.feed(client.get(path).text)
        assert parser.urls and all(url.startswith(("/", "#")) and not url.startswith("//") for url in parser.urls), path
        assert parser.inline_scripts == 0  # the CSP forbids inline script


# ---------------------------------------------------------------- escaping


def test_a_script_in_a_translation_is_shown_as_text(desk_project):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    po = desk_project / "translations" / "es.po"
    text = po.read_text(encoding="utf-8")
    old = 'msgstr "Las benzodiacepinas (benzos) y los opioides hacen más lenta tu respiración, y si los tomas juntos pueden detenerla."'
    assert old in text
    po.write_text(text.replace(old, 'msgstr "' + evil.replace('"', '\\"') + '"'), encoding="utf-8")
    client, guard, _ = make_client(desk_project)
    client.get(f"/?token={guard.token}")
    for path in ("/lang/es", "/lang/es/string/both-slow-breathing", "/lang/es?q=script"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html, path
    # Also in what the page's script receives (read with textContent, and JSON-encoded anyway).
    response = client.post("/api/lang/es/string/both-slow-breathing/check", json={"text": evil}, headers={"X-CSRF-Token": guard.csrf})
    assert response.headers["content-type"] == "application/json"
    assert any(f["check"] == "markup" for f in response.json()["findings"])


# ---------------------------------------------------------------- pages


def test_overview_counts_and_filters(desk_client):
    client, _, _ = desk_client
    html = client.get("/lang/es").text
    assert "call-emergency" in html and "both-slow-breathing" in html
    searched = client.get("/lang/es?q=naloxona").text
    assert "give-naloxone" in searched and "both-slow-breathing" not in searched
    assert "no string matches" in client.get("/lang/es?state=approved").text.lower()
    by_format = client.get("/lang/es?format=card").text
    assert "call-emergency" in by_format and "fake-pills-fentanyl" not in by_format  # a flyer-only fact


def test_string_view_shows_english_note_citations_and_provenance(desk_client):
    client, _, _ = desk_client
    html = client.get("/lang/es/string/both-slow-breathing").text
    assert "Benzos and opioids both slow your breathing" in html
    assert 'dir="auto"' in html and 'lang="es"' in html
    assert "contributor draft" in html  # where the text came from
    assert "Examples: benzos = Xanax" in html  # the note for translators
    assert "No decision recorded yet" in html


def test_stale_string_shows_the_old_english_and_what_changed(desk_client):
    client, _, _ = desk_client
    html = client.get("/lang/es/string/ui.footer.checked").text
    assert "The translation was written for" in html
    assert "<del>checked</del>" in html and "<ins>as each service publishes them, compiled</ins>" in html


def store_back_translation(root: Path, string_id: str, text: str, of: str | None = None) -> None:
    """Store a back-translation as `outreach backtranslate` does, made from `of` (default: the saved text)."""
    from pipeline.catalog import BackTranslation, read_catalog, translation_fingerprint, write_catalog
    from pipeline.project import Project

    catalog = read_catalog(Project(root), "es")
    made_from = string_translation(root, string_id) if of is None else of
    catalog.set_back_translation(string_id, BackTranslation(text, "test engine es-en 1.0", "2026-11-21", translation_fingerprint(made_from)))
    write_catalog(catalog, NOW)


MIXING = "mixing-raises-death-risk"
MIXING_BACK = "If you mix benzos with opioids or alcohol, you have a much higher risk of dying."
WRONG_BACK = "Keep Narcan at home and tell your friends where it is."  # says something else: a back-translation warning


def test_back_translation_is_shown_with_its_source_diff_and_score_only_when_stored(desk_client):
    client, _, desk = desk_client
    assert "Back-translation" not in client.get(f"/lang/es/string/{MIXING}").text
    store_back_translation(desk.root, MIXING, MIXING_BACK)
    html = client.get(f"/lang/es/string/{MIXING}").text
    assert "Back-translation" in html and MIXING_BACK in html
    assert "test engine es-en 1.0, 2026-11-21" in html
    assert "<del>When</del> <ins>If</ins>" in html
    assert "chrF " in html and "<b>low</b>" not in html
    assert html.count("test engine es-en 1.0") == 1  # not repeated among the provenance lines


def test_a_back_translation_far_from_the_english_is_scored_low_and_warned_about(desk_client):
    client, guard, desk = desk_client
    store_back_translation(desk.root, MIXING, WRONG_BACK)
    html = client.get(f"/lang/es/string/{MIXING}").text
    assert "<b>low</b>, below 35" in html
    assert "[back-translation]" in html
    # The live check knows the stored back-translation of the saved text, not of other typing.
    url = f"/api/lang/es/string/{MIXING}/check"
    saved = client.post(url, json={"text": string_translation(desk.root, MIXING)}, headers={"X-CSRF-Token": guard.csrf}).json()
    assert "back-translation" in [f["check"] for f in saved["findings"]]
    typed = client.post(url, json={"text": string_translation(desk.root, MIXING) + " Ya."}, headers={"X-CSRF-Token": guard.csrf}).json()
    assert "back-translation" not in [f["check"] for f in typed["findings"]]


def test_a_back_translation_of_an_earlier_text_is_shown_as_out_of_date(desk_client):
    client, _, desk = desk_client
    store_back_translation(desk.root, MIXING, WRONG_BACK, of="an earlier translation")
    html = client.get(f"/lang/es/string/{MIXING}").text
    assert "Out of date" in html and "outreach backtranslate es" in html
    assert WRONG_BACK not in html and "[back-translation]" not in html


def test_unknown_language_or_string_is_404(desk_client):
    client, _, _ = desk_client
    assert client.get("/lang/xx").status_code == 404
    assert client.get("/lang/es/string/no-such").status_code == 404


# ---------------------------------------------------------------- decisions


def _form(client, guard, string_id, **fields):
    base = string_translation(client.desk_root, string_id)
    return {"csrf": guard.csrf, "base": base, **fields}


def test_edit_then_approve_goes_through_the_po_and_the_ledger(desk_client, po_files_compile):
    client, guard, desk = desk_client
    client.desk_root = desk.root
    new = "Llama al {emergency} ahora mismo, da la dirección y di que la persona no respira o no despierta."
    response = client.post("/lang/es/string/call-emergency/decide", data=_form(client, guard, "call-emergency", action="approve", text=new))
    assert response.status_code == 200 and "Approved" in response.text, re.findall(r'class="problems[^"]*"[^>]*>(.*?)</', response.text, re.S)
    assert string_translation(desk.root, "call-emergency") == new
    records = es_ledger(desk.root)
    assert [(r["string_id"], r["action"], r["reviewer"], r["translation"]) for r in records] == [("call-emergency", "approve", REVIEWER, new)]
    po = (desk.root / "translations" / "es.po").read_text(encoding="utf-8")
    assert f"edited by {REVIEWER} in outreach serve" in po
    assert "approved" in client.get("/lang/es/string/call-emergency").text


def test_approve_refused_on_a_check_error_writes_nothing(desk_client):
    client, guard, desk = desk_client
    client.desk_root = desk.root
    response = client.post("/lang/es/string/call-emergency/decide",
                           data=_form(client, guard, "call-emergency", action="approve", text="Llama al 911 ahora."))
    assert response.status_code == 409
    assert "cannot approve" in response.text and "{emergency}" in response.text
    assert es_ledger(desk.root) == []
    assert "Llama al 911 ahora." in response.text  # the typing is kept in the box


def test_approve_button_starts_disabled_when_the_saved_text_has_an_error(desk_client):
    client, guard, desk = desk_client
    client.desk_root = desk.root
    assert 'id="approve" class="primary">' in client.get("/lang/es/string/call-emergency").text  # quiet: no error
    client.post("/lang/es/string/call-emergency/decide", data=_form(client, guard, "call-emergency", action="save", text="Llama ahora."))
    assert 'id="approve" class="primary" disabled' in client.get("/lang/es/string/call-emergency").text


def test_a_change_made_elsewhere_meanwhile_is_not_overwritten(desk_client):
    client, guard, desk = desk_client
    client.desk_root = desk.root
    stale_form = _form(client, guard, "call-emergency", action="approve", text="Llama al {emergency} ya, da la dirección y di que la persona no respira o no despierta.")
    from pipeline.content import read_source
    from pipeline.project import Project
    from pipeline.review import save_edit

    save_edit(read_source(Project(desk.root)), "es", "call-emergency", "Llame al {emergency}.", "Someone", NOW)  # e.g. the terminal
    response = client.post("/lang/es/string/call-emergency/decide", data=stale_form)
    assert response.status_code == 409 and "changed elsewhere" in response.text
    assert string_translation(desk.root, "call-emergency") == "Llame al {emergency}."
    assert es_ledger(desk.root) == []


def test_reject_needs_a_reason_and_records_it(desk_client):
    client, guard, desk = desk_client
    client.desk_root = desk.root
    assert client.post("/lang/es/string/call-emergency/reject", data=_form(client, guard, "call-emergency", reason=" ")).status_code == 422
    response = client.post("/lang/es/string/call-emergency/reject", data=_form(client, guard, "call-emergency", reason="use usted"))
    assert response.status_code == 200 and "Rejected" in response.text
    assert [(r["action"], r["reason"]) for r in es_ledger(desk.root)] == [("reject", "use usted")]


def test_reject_refuses_unsaved_typing(desk_client):
    client, guard, desk = desk_client
    client.desk_root = desk.root
    response = client.post("/lang/es/string/call-emergency/reject",
                           data=_form(client, guard, "call-emergency", reason="x", text="something else {emergency}"))
    assert response.status_code == 409 and "did not save" in response.text
    assert es_ledger(desk.root) == []


def test_desk_decisions_are_signed_with_the_desk_key_and_verify(desk_client, keys):
    from pipeline.ledger import read_ledger, signed_message
    from pipeline.project import Project
    from pipeline.signing import verify

    client, guard, desk = desk_client
    client.post("/lang/es/string/call-emergency/decide", data=_form(client, guard, "call-emergency", action="approve", text="Llama al {emergency} ya, da la dirección y di que la persona no respira o no despierta."))
    client.post("/lang/es/string/ui.label.call/reject", data=_form(client, guard, "ui.label.call", reason="say 'Llame'"))
    records = es_ledger(desk.root)
    assert [(r["string_id"], r["action"]) for r in records] == [("call-emergency", "approve"), ("ui.label.call", "reject")]
    for record in records:
        assert record["reviewer"] == REVIEWER and record["key"] == keys[REVIEWER].public_line
        assert verify(record["key"], signed_message(record), record["signature"])
    ledger = read_ledger(Project(desk.root), "es")
    assert ledger.problems == ()
    assert [d.reviewer for d in ledger.decisions] == [REVIEWER, REVIEWER]


def test_a_reviewer_listed_for_one_language_signs_in_their_own_name(desk_project):
    client, guard, desk = open_desk(desk_project, reviewer="Esme Spanish")
    html = client.get("/").text
    assert "Esme Spanish" in html and desk.key.fingerprint in html
    client.post("/lang/es/string/call-emergency/decide", data=_form(client, guard, "call-emergency", action="approve", text="Llama al {emergency} ya, da la dirección y di que la persona no respira o no despierta."))
    assert [(r["reviewer"], r["key"]) for r in es_ledger(desk.root)] == [("Esme Spanish", desk.key.public_line)]


def test_a_language_the_key_is_not_listed_for_is_read_only(desk_project):
    client, guard, desk = open_desk(desk_project, reviewer="Esme Spanish")  # es only
    assert "read only" in client.get("/").text
    html = client.get("/lang/fr/string/call-emergency").text
    assert "Read only" in html and "Esme Spanish may review es only, not fr" in html
    assert 'id="approve" class="primary" disabled' in html
    response = client.post("/lang/fr/string/call-emergency/decide",
                           data={"csrf": guard.csrf, "base": "", "action": "save", "text": "Appelez le {emergency}."})
    assert response.status_code == 409 and "may review es only" in response.text
    assert not (desk.root / "translations" / "fr.po").exists()
    assert 'id="approve" class="primary">' in client.get("/lang/es/string/call-emergency").text  # quiet: es is hers


def test_a_key_replaced_in_reviewers_while_the_desk_runs_records_nothing(desk_client, tmp_path):
    from conftest import write_test_key

    client, guard, desk = desk_client
    new_key = write_test_key(tmp_path / "new", "new@test").with_suffix(".pub").read_text().split()[1]
    reviewers = desk.root / "source" / "reviewers.yaml"
    text = reviewers.read_text(encoding="utf-8")
    reviewers.write_text(text.replace(desk.key.public_line.split()[1], new_key), encoding="utf-8")  # e.g. a lost key revoked
    form = _form(client, guard, "call-emergency", action="approve", text=string_translation(desk.root, "call-emergency"))
    response = client.post("/lang/es/string/call-emergency/decide", data=form)
    assert response.status_code == 409 and "is not listed" in response.text
    assert es_ledger(desk.root) == []


def test_prepare_desk_refuses_a_key_that_cannot_decide_anything_here(desk_project, keys, tmp_path):
    from conftest import MAINTAINERS, write_test_key

    from pipeline.desk.server import prepare_desk
    from pipeline.errors import ContentError
    from pipeline.signing import load_signing_key

    stranger = load_signing_key(write_test_key(tmp_path / "stranger", "stranger@test"))
    for key, claimed, expected in (
        (stranger, None, "is not listed"),
        (keys[MAINTAINERS], None, "may review en only, not es"),  # listed, but for English only
        (keys[REVIEWER], "Esme Spanish", "does not match the key's owner 'Ana Reviewer'"),
    ):
        with pytest.raises(ContentError) as refused:
            prepare_desk(desk_project, key, claimed, HOST, 0)
        assert not refused.value.unusable  # exit 1: the key is usable, it may not decide here
        assert expected in refused.value.problems[0].message
    desk, _guard, sock = prepare_desk(desk_project, keys["Esme Spanish"], None, HOST, 0)  # quiet
    sock.close()
    assert desk.reviewer == "Esme Spanish"


# ---------------------------------------------------------------- acknowledged warnings


def test_approving_a_string_with_a_warning_needs_it_ticked(desk_client):
    client, guard, desk = desk_client
    store_back_translation(desk.root, MIXING, WRONG_BACK)
    html = client.get(f"/lang/es/string/{MIXING}").text
    box = re.search(r'<label class="ack"><input type="checkbox" form="decide" name="acknowledge" value="back-translation"[^>]*aria-describedby="(finding-\d+)"[^>]*> I have read this warning</label>', html)
    assert box, "each warning has a labelled checkbox"
    assert f'id="{box.group(1)}"' in html
    saved = string_translation(desk.root, MIXING)
    refused = client.post(f"/lang/es/string/{MIXING}/decide", data=_form(client, guard, MIXING, action="approve", text=saved))
    assert refused.status_code == 409
    assert "Not approved: tick “I have read this warning” under this warning first: the back-translation says" in unescape(refused.text)
    assert "[back-translation]" in refused.text
    assert es_ledger(desk.root) == []
    approved = client.post(f"/lang/es/string/{MIXING}/decide", data=_form(client, guard, MIXING, action="approve", text=saved, acknowledge="back-translation"))
    assert approved.status_code == 200 and "Approved" in approved.text
    [record] = es_ledger(desk.root)
    assert record["action"] == "approve" and [a["check"] for a in record["acknowledged"]] == ["back-translation"]
    assert "the back-translation says" in record["acknowledged"][0]["message"]
    shown = client.get(f"/lang/es/string/{MIXING}").text
    assert "acknowledged warning: the back-translation says" in shown  # in the history
    assert 'name="acknowledge"' not in shown  # approved: nothing left to tick


def test_a_refused_approval_keeps_the_ticks_given(desk_client, monkeypatch):
    from pipeline import checks

    def two_warnings(case):
        if case.string.id == MIXING:
            yield "first test warning"
            yield "second test warning"

    monkeypatch.setitem(checks.CHECKS, "test-warning", checks.Check("test-warning", checks.WARNING, "translation", two_warnings))
    client, guard, desk = desk_client
    store_back_translation(desk.root, MIXING, WRONG_BACK)
    saved = string_translation(desk.root, MIXING)
    # Two warnings of one check and one tick: refused, naming it; the back-translation tick stays ticked.
    form = {**_form(client, guard, MIXING, action="approve", text=saved), "acknowledge": ["back-translation", "test-warning"]}
    refused = client.post(f"/lang/es/string/{MIXING}/decide", data=form)
    assert refused.status_code == 409 and "[test-warning]" in refused.text
    assert re.search(r'value="back-translation"[^>]* checked>', refused.text)
    assert es_ledger(desk.root) == []
    form["acknowledge"] = ["back-translation", "test-warning", "test-warning"]
    assert client.post(f"/lang/es/string/{MIXING}/decide", data=form).status_code == 200
    acknowledged = [(a["check"], a["message"]) for a in es_ledger(desk.root)[0]["acknowledged"]]
    assert [m for c, m in acknowledged if c == "test-warning"] == ["first test warning", "second test warning"]
    assert [c for c, _ in acknowledged].count("back-translation") == 1


def test_a_refused_approval_of_a_typed_text_saves_nothing(desk_client, monkeypatch):
    from pipeline import checks

    monkeypatch.setitem(checks.CHECKS, "test-warning", checks.Check(
        "test-warning", checks.WARNING, "translation", lambda case: iter(["a test warning"] if case.string.id == MIXING else [])))
    client, guard, desk = desk_client
    po = desk.root / "translations" / "es.po"
    before = po.read_bytes()
    typed = string_translation(desk.root, MIXING).replace("mucho más", "muchísimo más")
    refused = client.post(f"/lang/es/string/{MIXING}/decide", data=_form(client, guard, MIXING, action="approve", text=typed))
    assert refused.status_code == 409 and "[test-warning]" in refused.text
    assert po.read_bytes() == before and es_ledger(desk.root) == []
    assert typed in refused.text  # the typing is kept in the box
    form = _form(client, guard, MIXING, action="approve", text=typed, acknowledge="test-warning")
    assert client.post(f"/lang/es/string/{MIXING}/decide", data=form).status_code == 200
    assert string_translation(desk.root, MIXING) == typed and es_ledger(desk.root)[0]["translation"] == typed


def test_an_error_cannot_be_acknowledged_away(desk_client):
    client, guard, desk = desk_client
    form = _form(client, guard, "call-emergency", action="approve", text="Llama al 911 ahora.", acknowledge="placeholders")
    response = client.post("/lang/es/string/call-emergency/decide", data=form)
    assert response.status_code == 409 and "cannot acknowledge 'placeholders'" in unescape(response.text)
    assert es_ledger(desk.root) == []


# ---------------------------------------------------------------- checks and preview


def test_check_endpoint_reports_a_dropped_placeholder_and_is_quiet_when_fixed(desk_client):
    client, guard, _ = desk_client
    url = "/api/lang/es/string/call-emergency/check"
    bad = client.post(url, json={"text": "Llama ahora."}, headers={"X-CSRF-Token": guard.csrf}).json()
    assert bad["errors"] >= 1 and any(f["check"] == "placeholders" for f in bad["findings"])
    good = client.post(url, json={"text": "Llama al {emergency} ahora, da la dirección y di que la persona no respira o no despierta."}, headers={"X-CSRF-Token": guard.csrf}).json()
    assert good["errors"] == 0


def test_preview_draws_the_typed_text_and_writes_nothing(desk_client):
    import pymupdf

    client, guard, desk = desk_client
    url = "/api/lang/es/string/call-emergency/preview"
    body = {"text": "Llama al {emergency} YA MISMO.", "edition": "es-US", "format": "card"}
    data = client.post(url, json=body, headers={"X-CSRF-Token": guard.csrf}).json()
    assert data["errors"] == [] and data["outlined"] and len(data["pages"]) == 1
    png = client.get(data["pages"][0]["url"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = pymupdf.Pixmap(png.content)
    assert image.width == data["pages"][0]["width"]
    assert not (desk.root / "output").exists() or not any((desk.root / "output").rglob("*.pdf"))
    # A text far too long for the card: the preview says it does not fit.
    long = {**body, "text": "Llama al {emergency} " + "y espera a que llegue la ayuda " * 12}
    data = client.post(url, json=long, headers={"X-CSRF-Token": guard.csrf}).json()
    assert data["fit_problems"] and "overflows" in data["fit_problems"][0]


def test_preview_of_a_document_the_string_is_not_in_is_refused(desk_client):
    client, guard, _ = desk_client
    data = client.post("/api/lang/es/string/call-emergency/preview", json={"text": "x", "edition": "fr-CA", "format": "card"},
                       headers={"X-CSRF-Token": guard.csrf}).json()
    assert data["pages"] == [] and "no such document in es" in data["errors"][0]
    # A Spanish document that does not print this string (the flyer-only fact is not on the card).
    data = client.post("/api/lang/es/string/fake-pills-fentanyl/preview", json={"text": "x", "edition": "es-US", "format": "card"},
                       headers={"X-CSRF-Token": guard.csrf}).json()
    assert data["pages"] == [] and "does not print" in data["errors"][0]


def test_serve_refuses_a_wildcard_address(desk_project):
    from pipeline.desk.server import bind_socket
    from pipeline.errors import ContentError

    with pytest.raises(ContentError):
        bind_socket("0.0.0.0", 0)
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0
    finally:
        sock.close()


# ---------------------------------------------------------------- the command


def test_outreach_serve_prints_a_token_link_serves_it_and_stops_on_ctrl_c(desk_project, key_files):
    import os
    import re
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--project", str(desk_project), "serve", "--port", "0"],
        cwd=REPO, env={**os.environ, "OUTREACH_SIGNING_KEY": str(key_files[REVIEWER])},  # the key from the environment, as approve
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = [process.stdout.readline(), process.stdout.readline()]
        assert f"Review desk for {REVIEWER} (key SHA256:" in lines[0]  # the name comes from the key
        match = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=([\w-]+)", "".join(lines))
        assert match, lines
        base, token = match.groups()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/", timeout=30)
        assert refused.value.code == 403
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(f"{base}/?token={token}", timeout=30) as response:  # follows the redirect with the cookie
            assert response.status == 200 and "Spanish" in response.read().decode()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "review desk stopped" in out
    assert "Traceback" not in err


def test_outreach_serve_refuses_an_address_it_cannot_check(desk_project, key_files):
    from click.testing import CliRunner

    from pipeline.cli import main

    result = CliRunner().invoke(main, ["--project", str(desk_project), "serve", "--key", str(key_files[REVIEWER]), "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "listens everywhere" in result.output


def test_outreach_serve_refuses_to_start_with_a_key_not_listed(desk_project, key_files, tmp_path):
    from click.testing import CliRunner
    from conftest import write_test_key

    from pipeline.cli import main

    stranger = write_test_key(tmp_path / "stranger", "stranger@test")
    result = CliRunner().invoke(main, ["--project", str(desk_project), "serve", "--key", str(stranger), "--port", "0"])
    assert result.exit_code == 1
    assert "is not listed: only a listed reviewer can approve or reject" in result.output
    result = CliRunner().invoke(main, ["--project", str(desk_project), "serve", "--key", str(key_files["Esme Spanish"]), "--reviewer", "Ana Reviewer", "--port", "0"])
    assert result.exit_code == 1 and "does not match the key's owner 'Esme Spanish'" in result.output


def test_outreach_serve_asks_for_a_passphrase_once_at_start(desk_project, tmp_path, monkeypatch):
    from click.testing import CliRunner
    from conftest import write_test_key

    from pipeline.cli import main

    monkeypatch.delenv("OUTREACH_KEY_PASSPHRASE", raising=False)
    locked = write_test_key(tmp_path / "locked", "locked@test", passphrase="open sesame")
    # A wrong passphrase: usage error, nothing served.
    result = CliRunner().invoke(main, ["--project", str(desk_project), "serve", "--key", str(locked), "--host", "0.0.0.0"], input="wrong\n")
    assert result.exit_code == 2 and "wrong passphrase" in result.output
    # The right one is read (once) and the key loaded; it is not listed here, so the desk does not start.
    result = CliRunner().invoke(main, ["--project", str(desk_project), "serve", "--key", str(locked), "--port", "0"], input="open sesame\n")
    assert result.output.count("Passphrase for") == 1
    assert result.exit_code == 1 and "is not listed" in result.output


# ---------------------------------------------------------------- stale strings: the page must have shown what changed

STALE_FOOTER = "ui.footer.checked"  # stale in the shipped es.po
FOOTER_NOW = "Facts from public health agencies. Phone numbers as each service publishes them, compiled {date}."


def _page_form(client, guard, string_id, **fields):
    """The decide form's hidden fields as the string's page shows them now, plus `fields`."""
    html = client.get(f"/lang/es/string/{string_id}").text
    hidden = dict(re.findall(r'<input type="hidden" name="(base|english|english_was)" value="([^"]*)">', html))
    assert set(hidden) == {"base", "english", "english_was"}, html
    return {"csrf": guard.csrf, **{name: unescape(value) for name, value in hidden.items()}, **fields}


def test_a_stale_string_approved_from_the_page_that_showed_the_change_binds_the_new_english(desk_client, po_files_compile):
    client, guard, desk = desk_client
    form = _page_form(client, guard, STALE_FOOTER, action="approve")
    assert form["english"] == FOOTER_NOW and form["english_was"] == "Facts from public health agencies. Phone numbers checked {date}."
    form["text"] = form["base"]
    response = client.post(f"/lang/es/string/{STALE_FOOTER}/decide", data=form)
    assert response.status_code == 200 and "Approved" in response.text
    [record] = es_ledger(desk.root)
    assert (record["string_id"], record["action"], record["english"]) == (STALE_FOOTER, "approve", FOOTER_NOW)


def test_a_stale_string_approved_from_a_page_that_did_not_show_the_change_is_refused(desk_client):
    client, guard, desk = desk_client
    po = (desk.root / "translations" / "es.po").read_bytes()
    form = _form(client, guard, STALE_FOOTER, action="approve")  # base and text, but no English: not sent by the string's page
    form["text"] = form["base"]
    response = client.post(f"/lang/es/string/{STALE_FOOTER}/decide", data=form)
    assert response.status_code == 409 and "The English of this string changed since this page was opened" in response.text
    assert es_ledger(desk.root) == [] and (desk.root / "translations" / "es.po").read_bytes() == po
    assert "<del>checked</del>" in response.text  # the page it answers with shows the change, and carries it in the form
    again = dict(re.findall(r'<input type="hidden" name="(english|english_was)" value="([^"]*)">', response.text))
    response = client.post(f"/lang/es/string/{STALE_FOOTER}/decide", data={**form, **{k: unescape(v) for k, v in again.items()}})
    assert response.status_code == 200 and "Approved" in response.text


def test_english_changed_after_the_page_was_opened_refuses_approve_and_save(desk_client):
    client, guard, desk = desk_client
    string_id = "both-slow-breathing"  # a draft: not stale when the page is opened
    opened = _page_form(client, guard, string_id)
    assert opened["english_was"] == ""
    from conftest import edit

    edit(desk.root / "source" / "facts.yaml", "Benzos and opioids both slow your breathing", "Benzos and opioids each slow your breathing")
    po = (desk.root / "translations" / "es.po").read_bytes()
    for action, text in (("approve", opened["base"]), ("save", opened["base"] + " Ya.")):
        response = client.post(f"/lang/es/string/{string_id}/decide", data={**opened, "action": action, "text": text})
        assert response.status_code == 409 and "changed since this page was opened" in response.text, action
        assert "<del>both</del>" in response.text and "<ins>each</ins>" in response.text
    assert es_ledger(desk.root) == [] and (desk.root / "translations" / "es.po").read_bytes() == po


def test_a_page_that_showed_the_english_as_it_stands_approves_as_before(desk_client):
    client, guard, desk = desk_client
    form = _page_form(client, guard, "both-slow-breathing", action="approve")
    response = client.post("/lang/es/string/both-slow-breathing/decide", data={**form, "text": form["base"]})
    assert response.status_code == 200 and "Approved" in response.text
    assert [r["string_id"] for r in es_ledger(desk.root)] == ["both-slow-breathing"]
