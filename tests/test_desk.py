"""The review desk over HTTP (Starlette's test client): access rules, pages, decisions, previews."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import warnings
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


def make_client(root: Path, clock=None, follow: bool = True):
    from pipeline.desk.app import Desk, create_app
    from pipeline.desk.security import Guard

    desk = Desk(root=root, reviewer="Ana Ruiz", clock=lambda: NOW)
    guard = Guard(host=HOST, port=PORT, **({"clock": clock} if clock else {}))
    client = TestClient(create_app(desk, guard), base_url=BASE, follow_redirects=follow)
    return client, guard, desk


@pytest.fixture
def desk_client(desk_project: Path):
    """A client that has opened the desk's link (so it holds the cookie)."""
    client, guard, desk = make_client(desk_project)
    assert client.get(f"/?token={guard.token}", follow_redirects=False).status_code == 303
    return client, guard, desk


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


def test_every_post_route_is_covered_by_the_csrf_test():
    from pipeline.desk.app import Desk, create_app
    from pipeline.desk.security import Guard

    app = create_app(Desk(root=REPO, reviewer="x"), Guard(host=HOST, port=PORT))
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


def test_back_translation_is_shown_with_its_diff_only_when_stored(desk_client):
    client, _, desk = desk_client
    assert "Back-translation" not in client.get("/lang/es/string/mixing-raises-death-risk").text
    po = desk.root / "translations" / "es.po"
    text = po.read_text(encoding="utf-8")
    comment = "# outreach: back-translation: If you mix benzos with opioids or alcohol, you have a much higher risk of dying.\n"
    old = "# outreach: contributor draft: written by project contributors, not by a qualified translator; unreviewed, 2026-11-21\n#. fact block, topic risk\n#: source/facts.yaml:39\n"
    assert old in text
    po.write_text(text.replace(old, old.replace("#. fact block", comment + "#. fact block"), 1), encoding="utf-8")
    html = client.get("/lang/es/string/mixing-raises-death-risk").text
    assert "Back-translation" in html
    assert "<del>When</del> <ins>If</ins>" in html
    assert "back-translation:" not in html  # not repeated among the provenance lines


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
    new = "Llama al {emergency} ahora mismo."
    response = client.post("/lang/es/string/call-emergency/decide", data=_form(client, guard, "call-emergency", action="approve", text=new))
    assert response.status_code == 200 and "Approved" in response.text
    assert string_translation(desk.root, "call-emergency") == new
    records = es_ledger(desk.root)
    assert [(r["string_id"], r["action"], r["reviewer"], r["translation"]) for r in records] == [("call-emergency", "approve", "Ana Ruiz", new)]
    po = (desk.root / "translations" / "es.po").read_text(encoding="utf-8")
    assert "edited by Ana Ruiz in outreach serve" in po
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
    stale_form = _form(client, guard, "call-emergency", action="approve", text="Llama al {emergency} ya.")
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


# ---------------------------------------------------------------- checks and preview


def test_check_endpoint_reports_a_dropped_placeholder_and_is_quiet_when_fixed(desk_client):
    client, guard, _ = desk_client
    url = "/api/lang/es/string/call-emergency/check"
    bad = client.post(url, json={"text": "Llama ahora."}, headers={"X-CSRF-Token": guard.csrf}).json()
    assert bad["errors"] >= 1 and any(f["check"] == "placeholders" for f in bad["findings"])
    good = client.post(url, json={"text": "Llama al {emergency} ahora."}, headers={"X-CSRF-Token": guard.csrf}).json()
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


def test_outreach_serve_prints_a_token_link_serves_it_and_stops_on_ctrl_c(desk_project):
    import os
    import re
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--project", str(desk_project), "serve", "--reviewer", "Ana Ruiz", "--port", "0"],
        cwd=REPO, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = [process.stdout.readline(), process.stdout.readline()]
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


def test_outreach_serve_refuses_an_address_it_cannot_check(desk_project):
    from click.testing import CliRunner

    from pipeline.cli import main

    result = CliRunner().invoke(main, ["--project", str(desk_project), "serve", "--reviewer", "Ana", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "listens everywhere" in result.output
