"""The REST API under schemathesis, as a signed-in user, as staff and as a service client (an API key with
every scope): no 5xx, and answers as documented.

    .venv/bin/python bench/fuzz_api.py [--database-url mysql://root@127.0.0.1:3306/bench_fuzz]
        [--examples 50] [--seed 1]

Builds its own database the way `bench/feed_http.py` does (ML-100K imported and trained, on the first
run), serves it with gunicorn (1 worker, production settings, throttles
raised so the fuzzer measures answers, not rate limits), and runs `st run` against /api/schema/
once per role with every check and phase (examples, coverage, fuzzing, stateful), at most
`--examples` cases per operation. DELETE operations are left out: revoking the run's own token or
retiring the catalog's items would end the run's usefulness, and both are covered by the test suite.

Prints per role: operations and cases tested, responses with a 5xx status (the figure that must be 0),
and the other failures by schemathesis code (a request the schema allows but the API refuses for a
business reason, e.g. an unknown item id, is reported as ST202; the report names each case).
"""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feed_http import ROOT, Server, ensure_trained, manage, server_env  # noqa: E402

TOKENS = r"""
import json
from accounts.models import User
from accounts.tokens import token_issue
staff, _ = User.objects.get_or_create(username="bench-staff")
staff.is_staff = True
staff.save()
user, _ = User.objects.get_or_create(username="bench-fuzz-user")
print(json.dumps({"user": token_issue(user=user).key, "staff": token_issue(user=staff).key}))
"""


def fuzz(port: int, authorization: str, examples: int, seed: int, report: Path) -> dict:
    """One schemathesis run; its summary figures."""
    cmd = [str(Path(sys.executable).parent / "st"), "run", f"http://127.0.0.1:{port}/api/schema/?format=json"]
    cmd += ["--url", f"http://127.0.0.1:{port}", "-H", f"Authorization: {authorization}", "-n", str(examples)]
    cmd += [
        "--seed",
        str(seed),
        "--exclude-method",
        "DELETE",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True).stdout
    failures = dict((code, int(n)) for code, n in re.findall(r"❌ (ST\d+|[A-Z][\w ]+?)[^:\n]*: (\d+)", out))
    tested = re.search(r"Tested: (\d+)", out)
    cases = re.search(r"(\d+) generated", out)
    server_errors = len(re.findall(r"^\[5\d\d\]", out, flags=re.M))
    return {
        "operations": int(tested.group(1)) if tested else 0,
        "cases": int(cases.group(1)) if cases else 0,
        "server_errors": server_errors,
        "failures": failures,
        "output": out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="mysql://root@127.0.0.1:3306/bench_fuzz")
    parser.add_argument("--examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    env = {
        **server_env(args.database_url),
        "API_THROTTLE_USER": "1000000/min",
        "API_THROTTLE_ANON": "1000000/min",
        "LOGIN_THROTTLE_IP": "1000000/min",
        "LOGIN_THROTTLE_USERNAME": "1000000/min",
    }
    ensure_trained(env, args.database_url)
    manage(env, "collectstatic", "--noinput")
    tokens = json.loads(manage(env, "shell", "-c", TOKENS).strip().splitlines()[-1])
    headers = {role: f"Token {token}" for role, token in tokens.items()}
    scopes = ("--scopes", "ingest,recommend,read")
    headers["service"] = "Api-Key " + manage(env, "create_api_key", "--name", "bench-fuzz", *scopes).strip()
    server = Server(env, workers=1)
    total_5xx = 0
    try:
        for role in ("user", "staff", "service"):
            result = fuzz(server.port, headers[role], args.examples, args.seed, ROOT / f"fuzz-{role}.ndjson")
            total_5xx += result["server_errors"]
            failures = ", ".join(f"{code} {n}" for code, n in sorted(result["failures"].items())) or "none"
            print(
                f"as {role:<7}: {result['operations']} operations, {result['cases']} cases,"
                f" {result['server_errors']} responses with a 5xx; other failures: {failures}"
            )
            (ROOT / f"fuzz-{role}.txt").write_text(result["output"])
    finally:
        server.stop()
    errors = server.log.read_text().count("Traceback")
    print(f"server log {server.log}: {errors} tracebacks")
    print(
        f"full reports: fuzz-user.txt, fuzz-staff.txt, fuzz-service.txt (ndjson beside them); 5xx in all: {total_5xx}"
    )
    print(f"reproduce: .venv/bin/python bench/fuzz_api.py {' '.join(sys.argv[1:])}")
    sys.exit(1 if total_5xx else 0)


if __name__ == "__main__":
    main()
