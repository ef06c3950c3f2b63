"""HTTP driver of the production smoke run (scripts/smoke_production.sh starts the servers).

Talks to a running gunicorn over real HTTP, as the demo users would: sign-ins, a claim, a group
activity, committee decisions in the admin review page, the secretary's signature, the posting PDF
rendered by the Celery worker, a township batch (combined PDF + zip), an Excel import and export,
an API token and an API write, the public page, /verify/ and /healthz.

Standard library only (urllib, http.cookiejar, html.parser), plus openpyxl — a runtime dependency —
to build the small import file. Run with the Python of the virtualenv built from requirements.txt.
Prints one ✓/✗ line per check and exits 1 if any failed.

Usage: python scripts/smoke_production.py BASE_URL PASSWORD
"""

import datetime
import io
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from html.parser import HTMLParser
from http.cookiejar import CookieJar

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000"
PASSWORD = sys.argv[2] if len(sys.argv) > 2 else "demo12345"
REQUEST_TIMEOUT = 60  # seconds, any single request
JOB_TIMEOUT = 240  # seconds, waiting for a Celery job (PDF, batch)
RUN = uuid.uuid4().hex[:8]  # marks what this run wrote

# ------------------------------------------------------------------------------------------------
# What the driver knows about the committee's review page (ledger/review/admin.py and
# templates/admin/ledger/period/review.html: one form per action, dispatched by button name).
# When the field names change, change them HERE and nowhere else.
REVIEW_URL = "/admin/ledger/period/{period_id}/review/"
REVIEW_PENDING_ID = re.compile(r'name="ids" value="(\d+)"')  # one checkbox per pending entry


def review_approve_one_fields(event_id: int) -> list[tuple[str, str]]:
    return [("decide", f"approve:{event_id}"), (f"reason_{event_id}", "")]


def review_approve_many_fields(event_ids: list[int]) -> list[tuple[str, str]]:
    return [("bulk", "approve"), ("bulk_reason", ""), *(("ids", str(i)) for i in event_ids)]


REVIEW_SIGN_FIELDS = [("sign", "1")]
# ------------------------------------------------------------------------------------------------

DEMO_LANDING = {  # login -> where the home page must send them (regex on the final path)
    "county": r"^/overview/$",
    "township": r"^/overview/$",
    "secretary": r"^/b/\d+/$",
    "committee": r"^/b/\d+/$",
    "member": r"^/me/$",
    "other_secretary": r"^/b/\d+/$",
    "admin": r"^/admin/$",
}


class CheckFailed(Exception):
    pass


# --- HTTP --------------------------------------------------------------------------------------


class Response:
    def __init__(self, status: int, url: str, body: bytes, headers):
        self.status, self.url, self.body, self.headers = status, url, body, headers
        self.path = urllib.parse.urlsplit(url).path

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Client:
    """One browser: its own cookies; follows redirects like a browser does."""

    def __init__(self):
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def csrf(self) -> str:
        return next((c.value for c in self.cookies if c.name == "csrftoken"), "")

    def request(self, method, path, data: bytes | None = None, headers: dict | None = None) -> Response:
        url = path if path.startswith("http") else BASE + path
        headers = {"Referer": BASE + "/", **(headers or {})}
        if method == "POST" and "X-CSRFToken" not in headers and self.csrf():
            headers["X-CSRFToken"] = self.csrf()
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=REQUEST_TIMEOUT) as resp:
                return Response(resp.status, resp.geturl(), resp.read(), resp.headers)
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.geturl(), exc.read(), exc.headers)

    def get(self, path, headers=None) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path, fields: list[tuple[str, str]], files: dict | None = None) -> Response:
        if files:
            boundary = "----smoke" + uuid.uuid4().hex
            parts = []
            for name, value in fields:
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                )
            for name, (filename, content, ctype) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: {ctype}\r\n\r\n".encode()
                    + content
                    + b"\r\n"
                )
            parts.append(f"--{boundary}--\r\n".encode())
            body, ctype = b"".join(parts), f"multipart/form-data; boundary={boundary}"
        else:
            body, ctype = urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
        return self.request("POST", path, body, {"Content-Type": ctype})

    def api(self, method, path, token, payload=None, headers=None) -> Response:
        data = json.dumps(payload).encode() if payload is not None else None
        hdrs = {"Authorization": f"Token {token}", "Accept": "application/json", **(headers or {})}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        return self.request(method, path, data, hdrs)


# --- HTML forms --------------------------------------------------------------------------------


class FormParser(HTMLParser):
    """Every <form> with its fields: (name, type, value, checked) and select options."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"attrs": a, "fields": [], "selects": {}}
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag in ("input", "button") and a.get("name"):
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            self._form["fields"].append((a["name"], kind, a.get("value", ""), "checked" in a))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["selects"][self._select] = {"options": [], "multiple": "multiple" in a}
        elif tag == "option" and self._select:
            self._option = [a.get("value"), "", "selected" in a]
            self._form["selects"][self._select]["options"].append(self._option)
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]
            self._form["fields"].append(("__textarea__", self._textarea, "", False))

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "option" and self._option is not None:
            if self._option[0] is None:
                self._option[0] = self._option[1].strip()
            self._option = None
        elif tag == "textarea":
            self._textarea = None


def forms_in(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def form_with(html: str, field: str) -> dict:
    for form in forms_in(html):
        names = (
            {f[0] for f in form["fields"]}
            | set(form["selects"])
            | {f[1][0] for f in form["fields"] if f[0] == "__textarea__"}
        )
        if field in names:
            return form
    raise CheckFailed(f"no form with a field {field!r} on the page")


def form_defaults(form: dict, skip: set[str] = frozenset()) -> list[tuple[str, str]]:
    """What a browser would send without touching anything (no submit button)."""
    values = []
    for name, kind, value, checked in form["fields"]:
        if name == "__textarea__":
            if kind[0] not in skip:
                values.append((kind[0], kind[1]))
            continue
        if name in skip or kind in ("submit", "button", "file", "image", "reset"):
            continue
        if kind in ("checkbox", "radio") and not checked:
            continue
        values.append((name, value))
    for name, select in form["selects"].items():
        if name in skip:
            continue
        chosen = [o for o in select["options"] if o[2]] or select["options"][:1]
        values.extend((name, o[0]) for o in chosen)
    return values


def option_value(form: dict, select: str, text_prefix: str) -> str:
    for value, text, _selected in form["selects"][select]["options"]:
        if text.strip().startswith(text_prefix):
            return value
    raise CheckFailed(f"no option starting {text_prefix!r} in {select!r}")


def choice_values(form: dict, field: str) -> list[str]:
    """The values of a field's checkboxes/radios, or a select's non-empty options."""
    if field in form["selects"]:
        return [o[0] for o in form["selects"][field]["options"] if o[0]]
    return [value for name, _kind, value, _c in form["fields"] if name == field]


def with_values(base: list[tuple[str, str]], **overrides) -> list[tuple[str, str]]:
    out = [(k, v) for k, v in base if k not in overrides]
    for key, value in overrides.items():
        if isinstance(value, list):
            out.extend((key, v) for v in value)
        else:
            out.append((key, str(value)))
    return out


def messages_in(html: str) -> str:
    """Django messages: the site's <li class="msg …"> and the admin's <ul class="messagelist"><li>."""
    found = re.findall(r'<li class="msg[^"]*"[^>]*>(.*?)</li>', html, re.S)
    for block in re.findall(r'<ul class="messagelist">(.*?)</ul>', html, re.S):
        found += re.findall(r"<li[^>]*>(.*?)</li>", block, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", m).strip() for m in found)


def errors_in(html: str) -> str:
    found = re.findall(r'class="[^"]*(?:errorlist|errornote|msg-error)[^"]*"[^>]*>(.*?)</(?:ul|p|li)>', html, re.S)
    return " ".join(" ".join(re.sub(r"<[^>]+>", " ", e).split()[:40]) for e in found).strip()


# --- the run -----------------------------------------------------------------------------------

results: list[bool] = []
state: dict = {}
clients: dict[str, Client] = {}


def check(label: str, expected: str):
    """Decorator: run the function now, print one ✓/✗ line with what was expected."""

    def run(fn):
        started = time.monotonic()
        try:
            detail = fn()
        except Exception as exc:
            results.append(False)
            print(f"✗ {label} — expected {expected}; got: {exc}", flush=True)
        else:
            results.append(True)
            took = time.monotonic() - started
            print(f"✓ {label} — {detail or expected} ({took:.1f} s)", flush=True)
        return fn

    return run


def need(condition, message):
    if not condition:
        raise CheckFailed(message)


def wait_for(what: str, probe, timeout=JOB_TIMEOUT, every=2.0):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: still not there after {timeout} s")
        time.sleep(every)


def api_list(token: str, path: str) -> list[dict]:
    resp = clients["api"].api("GET", path, token)
    need(resp.status == 200, f"GET {path} answered {resp.status}: {resp.text[:200]}")
    data = resp.json()
    return data["results"] if isinstance(data, dict) and "results" in data else data


def today() -> datetime.date:
    # The server's time zone (Asia/Shanghai) decides the quarter; the API gives us its periods.
    return datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()


def main() -> int:
    started = time.monotonic()
    clients["api"] = Client()

    @check("/healthz", "200 with database, Redis and migrations ok")
    def _():
        resp = Client().get("/healthz")
        need(resp.status == 200, f"status {resp.status}: {resp.text[:300]}")
        data = resp.json()
        need(data.get("status") == "ok", data)
        need(all(data["checks"].get(k) == "ok" for k in ("database", "redis", "migrations")), data)
        return f"200 {json.dumps(data['checks'], ensure_ascii=False)}"

    for login, landing in DEMO_LANDING.items():

        @check(f"sign in as {login}", f"lands on {landing}")
        def _(login=login, landing=landing):
            client = Client()
            page = client.get("/login/")
            need(page.status == 200, f"/login/ answered {page.status}")
            form = form_with(page.text, "password")
            resp = client.post("/login/", with_values(form_defaults(form), username=login, password=PASSWORD))
            need(resp.status == 200, f"status {resp.status} at {resp.path}")
            need(
                re.match(landing, resp.path), f"landed on {resp.path}: {messages_in(resp.text) or errors_in(resp.text)}"
            )
            clients[login] = client
            return f"landed on {resp.path}"

    @check("branch scope", "secretary and other_secretary land on different branches")
    def _():
        mine = clients["secretary"].get("/").path
        other = clients["other_secretary"].get("/").path
        need(mine != other, f"both on {mine}")
        state["branch_id"] = int(mine.strip("/").split("/")[1])
        outsider = clients["other_secretary"].get(mine)
        need(outsider.status == 404, f"other_secretary got {outsider.status} on {mine}")
        return f"secretary {mine}, other_secretary {other}, and 404 for the other's branch"

    @check("API token", "POST /api/v1/auth/token/ gives a token for secretary")
    def _():
        resp = clients["api"].request(
            "POST",
            "/api/v1/auth/token/",
            json.dumps({"username": "secretary", "password": PASSWORD}).encode(),
            {"Content-Type": "application/json"},
        )
        need(resp.status == 200, f"status {resp.status}: {resp.text[:200]}")
        state["token"] = resp.json()["token"]
        periods = api_list(state["token"], f"/api/v1/periods/?branch={state['branch_id']}&page_size=50")
        by_state = {}
        for p in periods:
            by_state.setdefault(p["state"], []).append(p)
        need(
            by_state.get("open") and by_state.get("review"),
            f"periods: {[(p['year'], p['quarter'], p['state']) for p in periods]}",
        )
        state["open"] = max(by_state["open"], key=lambda p: (p["year"], p["quarter"]))
        state["review"] = by_state["review"][0]
        state["posted"] = max(by_state.get("posted", []), key=lambda p: (p["year"], p["quarter"]))
        return f"token …{state['token'][-4:]}; open {state['open']['year']}Q{state['open']['quarter']}, in review {state['review']['year']}Q{state['review']['quarter']}, posted {state['posted']['year']}Q{state['posted']['quarter']}"

    @check("secretary enters a claim", "redirect to the branch page with 已录入")
    def _():
        client, branch = clients["secretary"], state["branch_id"]
        page = client.get(f"/b/{branch}/claims/new/")
        need(page.status == 200, f"form answered {page.status}")
        form = form_with(page.text, "rule")
        members = choice_values(form, "member")
        last = ""
        for rule in ("A08", "A05", "A02", "A06", "A04"):
            for member in members[:6]:
                account = f"smoke {RUN}: 协助调解邻里纠纷 {rule}"
                resp = client.post(
                    f"/b/{branch}/claims/new/",
                    with_values(
                        form_defaults(form, skip={"member", "rule", "account", "place", "occurred_on"}),
                        member=member,
                        rule=option_value(form, "rule", rule),
                        occurred_on=today().isoformat(),
                        place="村委会",
                        account=account,
                        member_declared="0",
                    ),
                )
                if resp.path == f"/b/{branch}/" and "已录入" in messages_in(resp.text):
                    state["claim_account"] = account
                    return f"{messages_in(resp.text)}"
                last = errors_in(resp.text) or f"{resp.status} {resp.path}"
                form = form_with(client.get(f"/b/{branch}/claims/new/").text, "rule")  # a fresh form_token
        raise CheckFailed(f"every attempt refused; last: {last}")

    @check("secretary records a group activity", "redirect to the branch page with a success message")
    def _():
        client, branch = clients["secretary"], state["branch_id"]
        last = ""
        for rule in ("A02", "A05", "A04", "A08"):
            page = client.get(f"/b/{branch}/group/new/")
            form = form_with(page.text, "members")
            members = choice_values(form, "members")
            need(len(members) >= 3, f"only {len(members)} members offered")
            for start in (0, 3, 6, 9):
                chosen = members[start : start + 3]
                resp = client.post(
                    f"/b/{branch}/group/new/",
                    with_values(
                        form_defaults(form, skip={"rule", "account", "occurred_on", "members", "place"}),
                        rule=option_value(form, "rule", rule),
                        occurred_on=today().isoformat(),
                        place="村道",
                        account=f"smoke {RUN}: 集体活动 {rule}",
                        members=chosen,
                    ),
                )
                if resp.path == f"/b/{branch}/" and messages_in(resp.text):
                    return f"{len(chosen)} members, rule {rule}: {messages_in(resp.text)}"
                last = errors_in(resp.text) or f"{resp.status} {resp.path}"
                form = form_with(client.get(f"/b/{branch}/group/new/").text, "members")
        raise CheckFailed(f"every attempt refused; last: {last}")

    @check(
        "API write: a claim via POST /api/v1/events/",
        "201, pending, replay with the same Idempotency-Key records nothing new",
    )
    def _():
        token, branch = state["token"], state["branch_id"]
        rules = [
            r for r in api_list(token, "/api/v1/rules/?kind=bonus&page_size=100") if not r.get("evidence_required")
        ]
        members = api_list(token, f"/api/v1/members/?branch={branch}&page_size=20")
        last = ""
        for rule in sorted(rules, key=lambda r: r["code"] != "A08"):
            for member in members[6:12]:
                key = f"smoke-{RUN}-{rule['id']}-{member['id']}"
                body = {
                    "member": member["id"],
                    "rule": rule["id"],
                    "occurred_on": today().isoformat(),
                    "account": f"smoke {RUN}: API 申报",
                    "place": "村口",
                }
                resp = clients["api"].api("POST", "/api/v1/events/", token, body, {"Idempotency-Key": key})
                if resp.status == 201:
                    event = resp.json()
                    need(event["status"] == "pending", event)
                    again = clients["api"].api("POST", "/api/v1/events/", token, body, {"Idempotency-Key": key})
                    need(
                        again.status == 201 and again.headers.get("Idempotent-Replayed") == "true",
                        f"replay: {again.status}",
                    )
                    need(again.json()["id"] == event["id"], "replay created another event")
                    return f"201 event {event['id']} pending; replay answered the same event"
                last = f"{resp.status} {resp.text[:200]}"
        raise CheckFailed(f"every attempt refused; last: {last}")

    @check("committee decides an entry", "the secretary's new claim approved in the admin review page")
    def _():
        token, committee = state["token"], clients["committee"]
        period = state["open"]
        events = api_list(
            token, f"/api/v1/events/?status=pending&year={period['year']}&quarter={period['quarter']}&page_size=500"
        )
        mine = [e for e in events if e["account"] == state["claim_account"]]
        need(mine, "the claim is not among the pending entries")
        event_id = mine[0]["id"]
        url = REVIEW_URL.format(period_id=period["id"])
        page = committee.get(url)
        need(page.status == 200, f"review page answered {page.status}")
        resp = committee.post(url, [("csrfmiddlewaretoken", committee.csrf()), *review_approve_one_fields(event_id)])
        need(resp.status == 200, f"status {resp.status}")
        after = clients["api"].api("GET", f"/api/v1/events/{event_id}/", token).json()
        need(after["status"] == "approved", f"entry {event_id} is {after['status']}: {messages_in(resp.text)}")
        return f"entry {event_id} approved: {messages_in(resp.text)}"

    @check(
        "the quarter in review: every pending entry decided",
        "no pending entries left (committee, then the secretary for the committee's own)",
    )
    def _():
        token, period = state["token"], state["review"]
        url = REVIEW_URL.format(period_id=period["id"])
        notes = []
        for who in ("committee", "secretary"):
            client = clients[who]
            page = client.get(url)
            need(page.status == 200, f"review page answered {page.status} for {who}")
            ids = [int(i) for i in REVIEW_PENDING_ID.findall(page.text)]
            if not ids:
                continue
            resp = client.post(url, [("csrfmiddlewaretoken", client.csrf()), *review_approve_many_fields(ids)])
            need(resp.status == 200, f"status {resp.status}")
            notes.append(f"{who} {len(ids)} offered: {messages_in(resp.text)[:80]}")
        left = api_list(
            token,
            f"/api/v1/events/?status=pending&year={period['year']}&quarter={period['quarter']}&branch={state['branch_id']}&page_size=500",
        )
        need(not left, f"{len(left)} still pending: {notes}")
        return "; ".join(notes)

    @check("secretary signs the quarter", "state signed, with a verification code")
    def _():
        token, period, secretary = state["token"], state["review"], clients["secretary"]
        url = REVIEW_URL.format(period_id=period["id"])
        secretary.get(url)
        resp = secretary.post(url, [("csrfmiddlewaretoken", secretary.csrf()), *REVIEW_SIGN_FIELDS])
        after = clients["api"].api("GET", f"/api/v1/periods/{period['id']}/", token).json()
        need(after["state"] == "signed" and after["short_hash"], f"state {after['state']}: {messages_in(resp.text)}")
        state["signed"] = after
        return f"{after['year']}Q{after['quarter']} signed, code {after['short_hash']}"

    @check("the posting PDF is produced by the Celery worker", "the signed quarter's document done, a PDF")
    def _():
        token, period = state["token"], state["signed"]

        def done():
            docs = api_list(token, f"/api/v1/documents/?period={period['id']}&kind=posting")
            failed = [d for d in docs if d["status"] == "failed"]
            need(not failed, f"job failed: {failed[0].get('error', failed[0])}" if failed else "")
            return next((d for d in docs if d["status"] == "done"), None)

        doc = wait_for("posting document", done)
        pdf = clients["secretary"].get(urllib.parse.urlsplit(doc["download_url"]).path)
        need(pdf.status == 200 and pdf.body.startswith(b"%PDF-"), f"download: {pdf.status} {pdf.body[:20]!r}")
        return f"document {doc['id']} done, {len(pdf.body)} bytes of PDF"

    @check("township batch", "every branch's posting rendered by the worker, one combined PDF and a zip")
    def _():
        client, period = clients["township"], state["posted"]
        page = client.get("/reports/")
        need(page.status == 200, f"/reports/ answered {page.status}")
        form = form_with(page.text, "batch-organisation")
        resp = client.post(
            "/reports/batches/",
            with_values(
                form_defaults(form, skip={"batch-kind", "batch-year", "batch-quarter", "batch-organisation"}),
                **{
                    "batch-kind": "posting",
                    "batch-organisation": choice_values(form, "batch-organisation")[0],  # the township
                    "batch-year": period["year"],
                    "batch-quarter": period["quarter"],
                },
            ),
        )
        match = re.match(r"^/reports/batches/(\d+)/$", resp.path)
        need(match, f"no batch: {resp.status} {resp.path} {errors_in(resp.text)}")
        batch = int(match[1])

        def finished():
            status = re.search(r'data-status="(\w+)"', client.get(f"/reports/batches/{batch}/").text)
            return status and status[1] in ("done", "failed") and status[1]

        status = wait_for("batch", finished)
        pdf = client.get(f"/reports/batches/{batch}/pdf/")
        archive = client.get(f"/reports/batches/{batch}/zip/")
        need(status == "done", f"batch {status}; combined PDF {pdf.status}, zip {archive.status}")
        need(pdf.status == 200 and pdf.body.startswith(b"%PDF-"), f"combined PDF: {pdf.status}")
        need(archive.status == 200 and archive.body.startswith(b"PK\x03\x04"), f"zip: {archive.status}")
        return f"batch {batch} done: combined PDF {len(pdf.body)} bytes, zip {len(archive.body)} bytes"

    @check("Excel import", "preview without errors, then 确认导入 adds the row")
    def _():
        import openpyxl

        client, token, branch = clients["secretary"], state["token"], state["branch_id"]
        members = api_list(token, f"/api/v1/members/?branch={branch}&page_size=200")
        names = [m["name"] for m in members]
        unique = [n for n in names if names.count(n) == 1]
        last = ""
        for rule in ("A08", "A05", "A02"):
            for name in unique[12:18]:
                book = openpyxl.Workbook()
                sheet = book.active
                sheet.append(["姓名", "细则编号", "发生日期", "分值", "事由", "地点"])
                sheet.append([name, rule, today().isoformat(), "", f"smoke {RUN}: 导入", "村委会"])
                buffer = io.BytesIO()
                book.save(buffer)
                page = client.get("/excel/import/")
                form = form_with(page.text, "file")
                resp = client.post(
                    "/excel/import/",
                    with_values(form_defaults(form, skip={"kind", "branch"}), kind="claims", branch=branch),
                    files={
                        "file": (
                            "smoke.xlsx",
                            buffer.getvalue(),
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        )
                    },
                )
                match = re.match(r"^/excel/import/(\d+)/$", resp.path)
                need(match, f"no preview: {resp.status} {resp.path} {errors_in(resp.text)}")
                confirm = form_with(resp.text, "csrfmiddlewaretoken")
                if "将新增" not in resp.text:
                    last = "preview: " + " ".join(re.sub(r"<[^>]+>", " ", resp.text).split())[:200]
                    continue
                done = client.post(resp.path, form_defaults(confirm))
                need("导入完成" in messages_in(done.text), f"confirm: {messages_in(done.text)}")
                return f"{name} {rule}: {messages_in(done.text)}"
        raise CheckFailed(f"every preview had errors; last {last}")

    @check("Excel export", "the branch quarter as an xlsx that openpyxl reads")
    def _():
        import openpyxl

        period = state["open"]
        resp = clients["secretary"].get(
            f"/excel/export/branch_quarter.xlsx?branch={state['branch_id']}&year={period['year']}&quarter={period['quarter']}"
        )
        need(resp.status == 200 and resp.body.startswith(b"PK"), f"{resp.status} {resp.headers.get('Content-Type')}")
        book = openpyxl.load_workbook(io.BytesIO(resp.body))
        rows = sum(sheet.max_row or 0 for sheet in book.worksheets)
        need(rows > 2, f"only {rows} rows")
        return f"{len(resp.body)} bytes, {len(book.worksheets)} sheets, {rows} rows"

    @check("public page of a posted quarter", "200 for anyone, with the branch and its verification code")
    def _():
        period = state["posted"]
        resp = Client().get(f"/p/shancha/{period['year']}/{period['quarter']}/")
        need(resp.status == 200, f"status {resp.status}")
        need("山岔村" in resp.text and period["short_hash"] in resp.text, "branch name or code missing")
        return f"/p/shancha/{period['year']}/{period['quarter']}/ 200 with code {period['short_hash']}"

    @check("/verify/<code>", "200 and the ledger still matches the posted code")
    def _():
        code = state["posted"]["short_hash"]
        resp = Client().get(f"/verify/{code}/")
        need(resp.status == 200, f"status {resp.status}")
        need(re.search(r'class="rp-verdict ok"', resp.text), "verdict is not ok")
        return f"/verify/{code}/ 200, matches"

    failed = results.count(False)
    print(
        f"{len(results) - failed} of {len(results)} HTTP checks passed in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
