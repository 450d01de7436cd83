"""Hostile input against the API and the site pages: no 5xx, every answer under 1 s, sign-in guessing limited.

    .venv/bin/python bench/hostile_input.py [--database-url mysql://root@127.0.0.1:3306/bench_fuzz]
        [--only TEXT] [--guesses 10]

Uses bench/fuzz_api.py's database (built the same way on the first run, a few minutes; a run adds a user,
and retires the items it creates, external ids h-<time>-...), served by gunicorn (1 worker, production settings):
1. All throttles raised, so each answer is the app's own. Every operation in /api/schema/, as anonymous,
   a user and staff: hostile bodies (20 MB of JSON, JSON nested 100,000 deep, invalid UTF-8, lone
   surrogates, truncated, as text/plain, multipart, huge numbers, duplicate keys, 10,000 form fields)
   and hostile path ids (dots, negative, 10**30, unicode digits, traversal, NUL, invalid UTF-8); every
   route: OPTIONS, HEAD, PUT, PATCH. Then huge numbers, NaN and odd ids in bodies and query parameters,
   long, NUL and control-character searches and item titles, long and many headers, and the site's
   /login/, /signup/ and item forms (CSRF cookie and token from a GET of /login/). Each case is one
   request on a fresh socket, written byte for byte (10 s client timeout), with an X-Request-ID of its
   own that finds its server log lines; a failing case is sent again alone. --only: the cases whose
   label contains TEXT.
2. Default sign-in throttles (LOGIN_THROTTLE_IP 20/min, LOGIN_THROTTLE_USERNAME 5/min): wrong passwords
   for one username on POST /api/auth/token/, another on /login/, until the first 429 (Retry-After? the
   right password refused?); then new usernames from this address, and from a new X-Forwarded-For each.

Prints a table (case, role, status, ms), the summary, the server logs' tracebacks and each failing case
with its log lines. Exits 1 on any 5xx, answer in >= 1 s (or none), or sign-in limit that did not hold.
"""

import argparse
import contextlib
import json
import re
import shlex
import socket
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from string import Template
from typing import NamedTuple
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feed_http import Server, ensure_trained, manage, server_env  # noqa: E402
from fuzz_api import TOKENS  # noqa: E402

TIMEOUT, SLOW_MS = 10.0, 1000.0
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
PASSWORD = "bench-hostile-Passw0rd!"
HUGE_INT = "1" + "0" * 400
NUMBERS = ["1e308", "1e309", "-1e309", HUGE_INT, "NaN", "Infinity", "-Infinity", "1e-400", "-1", "0", "1.5"]
# "\udcff" goes out as the raw byte 0xff. Ids int() reads leniently ("١٢٣", " 9") name no item here:
# a staff DELETE of one that did would retire it (see the lenient cases in api_cases).
IDS = ["1.5", "-1", "1" + "0" * 30, "١٢٣٤٥٦٧٨٩", quote("١٢٣٤٥٦٧٨٩"), "..%2F..%2Fetc", "../..", "%2e%2e", "a.b"]
IDS += ["%00", "%ff%fe", "\udcff", "1e9", "%20999999999", "9" * 3000]
TITLES = {"NUL": "a\0b", "C0 controls": "".join(map(chr, range(1, 32))), "DEL and C1": "\x7f\x85\x9f"}
TITLES |= {"RTL override": "\u202eevil", "zero-width and BOM": "\ufeff\u200b", "lone surrogate": "\ud800"}
TITLES |= {"emoji": "\U0001f3ac" * 50, "300 chars": "x" * 300, "100,000 chars": "x" * 100_000}
MULTIPART = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n\r\n{"item": 1}\r\n--XyZ--\r\n'
HUGE_NUMBERS = f'{{"item": {HUGE_INT}, "value": 1e309, "year": -1e309, "age": NaN, "k": Infinity}}'.encode()
BODIES = {
    "20 MB JSON": (b'{"items": [' + b"1," * (10 * 1024 * 1024) + b"1]}", JSON),
    "JSON nested 100,000 deep": (b"[" * 100_000, JSON),
    "invalid UTF-8": (b'{"title": "\xff\xfe", "username": "\xc3\x28", "kind": "\xed\xa0\x80"}', JSON),
    "lone surrogates": (b'{"title": "\\ud800", "username": "\\udfff", "about": "\\ud800", "kind": "\\ud800"}', JSON),
    "truncated JSON": (b'{"item": 1, "kind": "rat', JSON),
    "JSON as text/plain": (b'{"item": 1, "kind": "like"}', "text/plain"),
    "multipart upload": (MULTIPART, "multipart/form-data; boundary=XyZ"),
    "huge numbers": (HUGE_NUMBERS, JSON),
    "duplicate keys": (b'{"item": 1, "item": "x", "kind": "like", "kind": 5, "title": "a", "title": null}', JSON),
    "10,000 form fields": (b"&".join(b"f%d=1" % i for i in range(10_000)), FORM),
}
# $n: each of NUMBERS and some ids as JSON strings; $item: an active item; $run and $i: a unique external id.
BODY_CASES = [
    ("user", "POST", "/api/interactions/", '{"item": $item, "kind": "rating", "value": $n}'),
    ("user", "POST", "/api/interactions/", '{"item": $item, "kind": "like", "value": $n}'),
    ("user", "POST", "/api/interactions/", '{"item": $n, "kind": "like"}'),
    ("staff", "PATCH", "/api/items/$item/", '{"year": $n}'),
    ("staff", "POST", "/api/items/", '{"external_id": "h-$run-$i", "title": "t", "attributes": {"n": $n}}'),
    ("user", "PATCH", "/api/me/", '{"age": $n}'),
]
QUERY_CASES = ["/api/items/?page=$n", "/api/items/?page_size=$n", "/api/interactions/?page=$n", "/browse/?page=$n"]
QUERY_CASES += ["/api/recommendations/?k=$n", "/api/items/$item/similar/?k=$n", "/api/recommendations/?user=$n"]
QUERY_CASES += ["/api/recommendations/?category=$n", "/api/items/?category=$n", "/?category=$n"]
SEARCHES = {"1,000 words": "w+" * 1000, "100,000 chars": "x" * 100_000, "NUL": "%00", "invalid UTF-8": "%ff%fe"}
SEARCHES |= {"raw invalid UTF-8": "\udcff\udcfe", "bad percent escape": "%", "10,000 parameters": "x" + "&a=1" * 10_000}
SEARCHES |= {"2,000 short parameters": "x" + "&a" * 2000, "duplicate keys": "a&search=b&search=%00"}
SEARCHES |= {name: quote(text, errors="surrogatepass") for name, text in TITLES.items()}
HEADERS = {
    "Authorization of 8,000 chars": "Authorization: Token " + "a" * 8000,
    "Authorization with NUL": "Authorization: Token a\0b",
    "Authorization in unicode digits": "Authorization: Token ١٢٣",
    "User-Agent of 8,000 chars": "User-Agent: " + "x" * 8000,
    "a header of 10,000 chars": "X-Long: " + "x" * 10_000,
    "Cookie of 8,000 chars": "Cookie: sessionid=" + "x" * 8000,
    "Accept of 700 types": "Accept: " + "a/b;q=0.1," * 700,
    "150 headers": "\r\n".join(f"X-H{i}: 1" for i in range(150)),
    "a second Host: evil.example": "Host: evil.example",
    "Content-Length: abc": "Content-Length: abc",
}
LOGIN_FORMS = {"3 MB username": {"username": "a" * 3_000_000}, "100,000-char username": {"username": "a" * 100_000}}
LOGIN_FORMS |= {"NUL username": {"username": "a\0b"}, "NUL password": {"password": "\0"}}
LOGIN_FORMS |= {"1 MB password": {"password": "x" * 1_000_000}, "no CSRF token": {"csrfmiddlewaretoken": ""}}
LOGIN_FORMS |= {"invalid UTF-8": {"username": "\udcff\udcfe", "password": "\udcc3("}}
SIGNUP_FORMS = {"100,000-char username": {"username": "a" * 100_000}, "NUL username": {"username": "a\0b"}}
SIGNUP_FORMS |= {"100,000-char email": {"email": "a" * 100_000 + "@example.com"}, "NUL email": {"email": "a\0@b.c"}}
SIGNUP_FORMS |= {"1 MB password": {"password1": "Zq9!" + "x" * 10**6, "password2": "Zq9!" + "x" * 10**6}}
SIGNUP_FORMS |= {"NUL password": {"password1": "Zq9!aaaa\0", "password2": "Zq9!aaaa\0"}}
USERS = r"""
import json
from django.test import Client
from accounts.models import User
from catalog.models import Category, Item
for name in ("bench-hostile-api", "bench-hostile-site"):
    guessed, _ = User.objects.get_or_create(username=name)
    guessed.set_password("PASSWORD")
    guessed.save()
client = Client()
client.force_login(guessed)
item = Item.objects.filter(is_active=True).order_by("pk").first().pk
slug = Category.objects.order_by("pk").first().slug
print(json.dumps({"session": client.cookies["sessionid"].value, "item": item, "slug": slug}))
""".replace("PASSWORD", PASSWORD)


class Case(NamedTuple):
    label: str
    role: str  # anonymous, user, staff (API tokens) or session (a signed-in site user)
    method: str
    target: str
    body: bytes = b""
    ctype: str = JSON
    headers: tuple = ()


def prepare(env: dict, database_url: str) -> dict:
    """fuzz_api.py's database (ML-100K imported and trained on the first run); tokens, session and ids."""
    ensure_trained(env, database_url)
    manage(env, "collectstatic", "--noinput")
    lines = manage(env, "shell", "-c", TOKENS + USERS).strip().splitlines()
    return json.loads(lines[-2]) | json.loads(lines[-1])


def _write(sock: socket.socket, data: bytes) -> None:
    """Sends the request; the server may answer and close before it has all (a 413 on 20 MB)."""
    with contextlib.suppress(OSError):
        sock.sendall(data)


def exchange(port: int, data: bytes) -> tuple[int, float, bytes]:
    """`data` on a fresh socket, read while it is written: (status, 0 when none; ms to the end; answer)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    writer = threading.Thread(target=_write, args=(sock, data))
    chunks, started = [], time.perf_counter()
    writer.start()
    with contextlib.suppress(OSError):  # the timeout, or a reset after the answer (a body left unread)
        while chunk := sock.recv(1 << 16):
            chunks.append(chunk)
    ms = (time.perf_counter() - started) * 1000
    with contextlib.suppress(OSError):  # wakes a writer the server stopped reading from
        sock.shutdown(socket.SHUT_RDWR)
    writer.join()
    sock.close()
    status = re.match(rb"HTTP/1\.[01] (\d{3})", answer := b"".join(chunks))
    return (int(status.group(1)) if status else 0), ms, answer


def encode(case: Case, headers: tuple = ()) -> bytes:
    """The request's bytes, exactly as the case says (any byte may stand in the target)."""
    lines = [f"{case.method} {case.target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers, *case.headers]
    if case.body or case.method in ("POST", "PUT", "PATCH"):
        lines += [f"Content-Type: {case.ctype}", f"Content-Length: {len(case.body)}"]
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + case.body


def fill(path: str, value: str) -> str:
    """The schema path with its parameter set to `value`."""
    return re.sub(r"\{\w+\}", value, path)


def schema_cases(schema: dict, valid: dict) -> list[Case]:
    """Every operation: the hostile bodies and ids, as each role; every route: OPTIONS, HEAD, PUT, PATCH."""
    cases = []
    for path, operations in schema["paths"].items():
        real = fill(path, valid["slug"] if "{slug}" in path else str(valid["item"]))
        for role in ("anonymous", "user", "staff"):
            for method in [m.upper() for m in operations if m != "parameters"]:
                # A DELETE that could work would retire an item or revoke the run's token: none may.
                target = fill(path, "0") if method == "DELETE" else real
                if method != "DELETE" or role == "anonymous" or target != real:
                    cases += [Case(f"{method} {target} {name}", role, method, target, *b) for name, b in BODIES.items()]
                if "{" in path:
                    cases += [Case(f"{method} {fill(path, i)}", role, method, fill(path, i), b"{}") for i in IDS]
            cases += [
                Case(f"{m} {real}", role, m, real, b"{}" * (m[0] == "P")) for m in ("OPTIONS", "HEAD", "PUT", "PATCH")
            ]
    return cases


def api_cases(item: int, run: str) -> list[Case]:
    """Huge numbers and odd ids in bodies and queries, searches, item titles and ids, headers."""
    lenient = [str(item).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")), f" {item}"]  # both read as `item`
    cases = [
        Case(f"GET /api/items/{quote(i)}/ (lenient id)", "anonymous", "GET", f"/api/items/{quote(i)}/") for i in lenient
    ]
    for i, n in enumerate(NUMBERS + [json.dumps(v) for v in IDS[:10] + lenient]):
        for role, method, target, body in BODY_CASES:
            target, body = (Template(s).substitute(n=n, item=item, run=run, i=i) for s in (target, body))
            cases.append(Case(f"{method} {target} {body[:60]}", role, method, target, body.encode()))
    for n in NUMBERS + IDS + [quote(v) for v in lenient]:
        for target in (Template(s).substitute(n=n, item=item) for s in QUERY_CASES):
            cases += [Case(f"GET {target[:70]}", role, "GET", target) for role in ("user", "staff")]
    deep = '{"a": ' * 200 + "1" + "}" * 200
    body = f'{{"external_id": "h-{run}-deep", "title": "t", "attributes": {deep}}}'.encode()
    cases.append(Case("POST /api/items/ attributes nested 200 deep", "staff", "POST", "/api/items/", body))
    for name, text in TITLES.items():
        for field in ("title", "external_id"):
            body = json.dumps({"external_id": f"h-{run}-{field}-{name}", "title": "t", field: text}).encode()
            cases.append(Case(f"POST /api/items/ {field}: {name}", "staff", "POST", "/api/items/", body))
    for name, text in SEARCHES.items():
        for target in ("/api/items/?search=", "/browse/?q=", "/api/items/?category="):
            cases.append(Case(f"GET {target} {name}", "anonymous", "GET", target + text))
    return cases + [
        Case(f"GET /api/me/ {name}", "user", "GET", "/api/me/", headers=(h,)) for name, h in HEADERS.items()
    ]


def site_cases(item: int, csrf: tuple, run: str) -> list[Case]:
    """The site's forms (/login/, /signup/, an item's interact form) with huge, NUL and invalid fields."""
    cases, cookie = [], (f"Cookie: csrftoken={csrf[0]}",)
    for name, fields in LOGIN_FORMS.items():
        form = {"csrfmiddlewaretoken": csrf[1], "username": "bench-hostile-api", "password": "x", **fields}
        body = urlencode(form, encoding="utf-8", errors="surrogateescape").encode()
        cases.append(Case(f"POST /login/ {name}", "anonymous", "POST", "/login/", body, FORM, cookie))
    for n, (name, fields) in enumerate(SIGNUP_FORMS.items()):
        form = {"csrfmiddlewaretoken": csrf[1], "username": f"h-{run}-{n}", "email": f"h-{run}-{n}@example.com"}
        body = urlencode(form | {"password1": "Zq9!", "password2": "Zq9!"} | fields).encode()
        cases.append(Case(f"POST /signup/ {name}", "anonymous", "POST", "/signup/", body, FORM, cookie))
    for n in NUMBERS + ["%00", "%ff"]:
        for kind in ("rating", "like", "%00"):
            body = f"csrfmiddlewaretoken={csrf[1]}&kind={kind}&value={quote(n, safe='%')}&next=%2F%2Fevil.example"
            target, label = f"/items/{item}/interact/", f"kind={kind} value={n[:20]}"
            cases.append(Case(f"POST {target} {label}", "session", "POST", target, body.encode(), FORM))
    return cases


def csrf_pair(port: int) -> tuple[str, str]:
    """GET /login/: the CSRF cookie and the form's token."""
    answer = exchange(port, encode(Case("", "anonymous", "GET", "/login/")))[2]
    cookie = re.search(rb"Set-Cookie: csrftoken=(\w+)", answer, re.I)
    token = re.search(rb'name="csrfmiddlewaretoken" value="(\w+)"', answer)
    if not (cookie and token):
        sys.exit(f"GET /login/ gave no CSRF cookie and token:\n{answer[:2000]!r}")
    return cookie.group(1).decode(), token.group(1).decode()


def warm_up(port: int, auth: dict, item: int) -> None:
    """Waits (up to 3 minutes) until the worker has loaded its model, then sends each kind of page once."""
    for _ in range(180):
        if exchange(port, encode(Case("", "anonymous", "GET", "/health/ready")))[0] == 200:
            break
        time.sleep(1)
    targets = [("user", "/api/recommendations/?k=5"), ("user", f"/api/items/{item}/similar/"), ("session", "/")]
    for role, target in targets + [("session", f"/items/{item}/"), ("anonymous", "/browse/?q=star")]:
        exchange(port, encode(Case("", role, "GET", target), auth[role]))


def sign_in(port: int, where: str, username: str, password: str, csrf: tuple, address: str = "") -> tuple[int, bytes]:
    """One sign-in attempt on POST /api/auth/token/ ("api") or /login/ ("site"): status and answer."""
    if where == "api":
        body = json.dumps({"username": username, "password": password}).encode()
        case = Case("", "anonymous", "POST", "/api/auth/token/", body)
    else:
        form = urlencode({"csrfmiddlewaretoken": csrf[1], "username": username, "password": password}).encode()
        case = Case("", "anonymous", "POST", "/login/", form, FORM, (f"Cookie: csrftoken={csrf[0]}",))
    status, _, answer = exchange(port, encode(case, (f"X-Forwarded-For: {address}",) if address else ()))
    return status, answer


def first_429(port: int, where: str, usernames: list[str], csrf: tuple, spoof: bool = False) -> tuple[int, bytes]:
    """Wrong passwords until the first 429: its try (0: none came) and its answer."""
    for n, username in enumerate(usernames, 1):
        status, answer = sign_in(port, where, username, f"wrong-{n}", csrf, f"10.9.{n // 200}.{n % 200}" * spoof)
        if status == 429:
            return n, answer
    return 0, b""


def guessing(port: int, csrf: tuple, guesses: int, env: dict) -> tuple[list[str], bool]:
    """Sign-in guessing under the login throttles: a line per finding; whether the limits held."""
    per_name = int(env.get("LOGIN_THROTTLE_USERNAME", "5/min").split("/")[0])
    per_address = int(env.get("LOGIN_THROTTLE_IP", "20/min").split("/")[0])
    lines, held, sent = [], True, 0
    for where, name in (("api", "bench-hostile-api"), ("site", "bench-hostile-site")):
        n, answer = first_429(port, where, [name] * guesses, csrf)
        retry = re.search(rb"\r\nRetry-After: (\d+)", answer, re.I)
        right, _ = sign_in(port, where, name, PASSWORD, csrf)
        sent += (n or guesses) + 1
        held &= n == per_name + 1 and bool(retry) and right == 429
        retry_after = f"Retry-After: {retry.group(1).decode()}" if retry else "no Retry-After"
        lines.append(f"{where:>4}: one username ({per_name}/min): first 429 at try {n or 'none'} of {guesses}, ")
        lines[-1] += f"{retry_after}; the right password then: {right}"
    n, _ = first_429(port, "api", [f"bench-hostile-new-{i}" for i in range(per_address + 5)], csrf)
    held &= n == per_address - sent + 1
    lines.append(
        f"  ip: new usernames after {sent} sign-ins from this address ({per_address}/min): first 429 at try {n}"
    )
    n, _ = first_429(port, "api", [f"bench-hostile-xff-{i}" for i in range(per_address + 5)], csrf, spoof=True)
    lines.append(f"  ip: the same, a new X-Forwarded-For each try: first 429 at try {n or 'none'} of {per_address + 5}")
    return lines, held


def log_lines(logs: list[Path], request_id: str) -> list[str]:
    """The server log records of one request, each with the lines after it (a traceback)."""
    out, keep = [], False
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if re.match(r"\[?\d{4}-\d\d-\d\d", line):
                keep = f"[{request_id}]" in line
            out += [line] * keep
    return out


def printable(text: str, width: int) -> str:
    """Text with every character that is not printable ASCII escaped, cut to `width`."""
    return ascii(text)[1:-1][:width]


def report(results: list, again: dict, logs: list[Path], sign_ins: list[str], held: bool) -> None:
    """The summary lines, the server logs' tracebacks, and each failing case in full."""
    statuses, roles = Counter(r[1] for r in results), Counter(r[0].role for r in results)
    slowest = max(results, key=lambda r: r[2])
    print(f"\ncases: {len(results)} ({', '.join(f'{role} {n}' for role, n in sorted(roles.items()))})")
    print("statuses: " + ", ".join(f"{s or 'none'} x{n}" for s, n in sorted(statuses.items())))
    print(f"5xx: {sum(r[1] >= 500 for r in results)}")
    print(f"slowest: {printable(slowest[0].label, 100)} ({slowest[0].role}): {slowest[1]}, {slowest[2]:.1f} ms")
    print(f"answered in >= 1 s or not at all: {sum(r[1] == 0 or r[2] >= SLOW_MS for r in results)}")
    print("sign-in guessing (login throttles as configured): " + ("limits held" if held else "LIMITS DID NOT HOLD"))
    print("\n".join(sign_ins))
    for log in logs:
        # A record followed by a traceback, by logger (django.security.*: a refused request, answered 400).
        found = Counter(re.findall(r"^\S+ \S+ \w+ (\S+) .*\n(?=Traceback)", log.read_text(errors="replace"), re.M))
        by_logger = ", ".join(f"{logger} {n}" for logger, n in sorted(found.items()))
        print(f"server log {log}: {sum(found.values())} tracebacks{f' ({by_logger})' if found else ''}")
    if again:
        print(f"(the {len(again)} failing cases were each sent twice: their server errors are logged twice)")
    for case, status, ms, request_id in (r for r in results if r[3] in again):
        print(f"\nFAILED {case.method} {printable(case.target, 300)} as {case.role}: {status or 'none'} in {ms:.0f} ms")
        print(f"  body ({len(case.body):,} bytes, {case.ctype}): {case.body[:300]!r}")
        print(f"  headers: {printable(str(case.headers), 300)}; request id {request_id}")
        status, ms = again[request_id]  # a write sent again meets what its first sending did
        print(f"  sent again alone: {status or 'no answer'} in {ms:.0f} ms")
        print("\n".join(f"  | {line}" for line in log_lines(logs, request_id)) or "  (no server log lines)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="mysql://root@127.0.0.1:3306/bench_fuzz")
    parser.add_argument("--only", default="", help="send only the cases whose label contains this text")
    parser.add_argument("--guesses", type=int, default=10, help="wrong passwords per username at the most")
    args = parser.parse_args()
    env = server_env(args.database_url)
    setup, run = prepare(env, args.database_url), str(int(time.time()))
    throttles = ("API_THROTTLE_USER", "API_THROTTLE_ANON", "LOGIN_THROTTLE_IP", "LOGIN_THROTTLE_USERNAME")
    server = Server(env | dict.fromkeys(throttles, "1000000/min"), workers=1)
    logs, results, created = [server.log], [], []
    try:
        csrf = csrf_pair(server.port)
        auth = {"anonymous": (), "session": (f"Cookie: sessionid={setup['session']}; csrftoken={csrf[0]}",)}
        auth |= {role: (f"Authorization: Token {setup[role]}",) for role in ("user", "staff")}
        warm_up(server.port, auth, setup["item"])
        answer = exchange(server.port, encode(Case("", "staff", "GET", "/api/schema/?format=json"), auth["staff"]))[2]
        schema = json.loads(answer.partition(b"\r\n\r\n")[2])
        print(f"{len(schema['paths'])} API paths in the schema: {', '.join(schema['paths'])}\n")
        cases = schema_cases(schema, setup) + api_cases(setup["item"], run) + site_cases(setup["item"], csrf, run)
        print(f"{'case':<86} {'role':<9} {'status':>6} {'ms':>8}")
        for n, case in enumerate(c for c in cases if args.only in c.label):
            request_id = f"hostile-{n}"
            status, ms, answer = exchange(server.port, encode(case, (*auth[case.role], f"X-Request-ID: {request_id}")))
            results.append((case, status, ms, request_id))
            print(f"{printable(case.label, 86):<86} {case.role:<9} {status or 'none':>6} {ms:8.1f}", flush=True)
            if case.target == "/api/items/" and status == 201:  # retired at the end: the catalog stays as it was
                created.append(json.loads(answer.partition(b"\r\n\r\n")[2])["id"])
        again = {}
        for case, status, ms, request_id in results:
            if status >= 500 or status == 0 or ms >= SLOW_MS:
                headers = (*auth[case.role], f"X-Request-ID: {request_id}-again")
                again[request_id] = exchange(server.port, encode(case, headers))[:2]
        for pk in created:
            exchange(server.port, encode(Case("", "staff", "DELETE", f"/api/items/{pk}/"), auth["staff"]))
    finally:
        server.stop()
    server = Server(env, workers=1)  # the default sign-in throttles (unless the environment sets others)
    logs.append(server.log)
    try:
        sign_ins, held = guessing(server.port, csrf_pair(server.port), args.guesses, env)
    finally:
        server.stop()
    report(results, again, logs, sign_ins, held)
    print(f"\nreproduce: .venv/bin/python bench/hostile_input.py {shlex.join(sys.argv[1:])}")
    sys.exit(1 if again or not held else 0)


if __name__ == "__main__":
    main()
